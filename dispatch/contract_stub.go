package dispatch

// CONTRACT STUB — written by the lead to pin the exported API that wsk/ is coded against
// while dispatch/ is being implemented. The implementer replaces this file with real code
// (small files, one concern each) and deletes it. Keep the exported names and signatures;
// adding API is fine. tables.go, events.go and constants.go are the contract too (their
// doc comments may be improved; names, member order and signatures stay).

import (
	"net/netip"

	"github.com/gowsk/gowsk/irp"
)

// Client is WSK_CLIENT: the binding between one registration and the provider.
type Client struct {
	Impl any // provider-private
}

// Socket is WSK_SOCKET. Dispatch is the guarded table of the socket's category:
// *BasicDispatch, *ListenDispatch, *DatagramDispatch, *ConnectionDispatch or *StreamDispatch.
// Every call through Dispatch holds the socket's rundown for the call's duration.
type Socket struct {
	Dispatch any
	Impl     any // provider-private state, set by NewSocket
	// unexported: rundown, closing state, inner (possibly layered) table
}

// NewSocket makes the socket a provider hands out. inner is the provider's (possibly
// layered) table for the category; Dispatch becomes the guard table that forwards to it.
func NewSocket(inner any, impl any) *Socket { panic("stub") }

// Init is NewSocket in place (a provider embedding Socket in its own record).
func (s *Socket) Init(inner any, impl any) { panic("stub") }

func (s *Socket) Category() SocketFlags           { panic("stub") }
func (s *Socket) Basic() *BasicDispatch           { panic("stub") }
func (s *Socket) Listen() *ListenDispatch         { panic("stub") } // nil if another category
func (s *Socket) Datagram() *DatagramDispatch     { panic("stub") }
func (s *Socket) Connection() *ConnectionDispatch { panic("stub") }
func (s *Socket) Stream() *StreamDispatch         { panic("stub") }

// StackSize is the number of IRP stack locations a call on s needs (1 + layers).
func (s *Socket) StackSize() int { panic("stub") }

// Closing reports whether CloseSocket has been entered.
func (s *Socket) Closing() bool { panic("stub") }

// Buf is WSK_BUF: a byte slice or a chain of them. Offset lies inside First; Length is the
// number of bytes described, starting at First[Offset] and running on into Rest.
type Buf struct {
	First  []byte
	Rest   [][]byte
	Offset int
	Length int
}

// MakeBuf describes all of b.
func MakeBuf(b []byte) Buf { return Buf{First: b, Length: len(b)} }

// MakeBufChain describes every slice of bs, in order.
func MakeBufChain(bs ...[]byte) Buf { panic("stub") }

// Valid reports whether Offset/Length fit the chain (First may be nil only if Length == 0).
func (b *Buf) Valid() bool { panic("stub") }

// Segments calls yield for each non-empty piece of the described bytes, in order.
func (b *Buf) Segments(yield func([]byte) bool) { panic("stub") }

// CopyFrom copies p into the described bytes starting at byte off; returns bytes copied.
func (b *Buf) CopyFrom(off int, p []byte) int { panic("stub") }

// CopyTo copies the described bytes starting at byte off into p; returns bytes copied.
func (b *Buf) CopyTo(off int, p []byte) int { panic("stub") }

// BufList is WSK_BUF_LIST (one datagram per element, for SendMessages).
type BufList struct {
	Next   *BufList
	Buffer Buf
}

// DataIndication is WSK_DATA_INDICATION. Lists belong to the provider: returning
// irp.Success or irp.DataNotAccepted from the receive event gives them back at once;
// returning irp.Pending lends them until the table's Release.
type DataIndication struct {
	Next   *DataIndication
	Buffer Buf
}

// DatagramIndication is WSK_DATAGRAM_INDICATION.
type DatagramIndication struct {
	Next          *DatagramIndication
	Buffer        Buf
	ControlInfo   []byte
	RemoteAddress netip.AddrPort
}

// InspectID is WSK_INSPECT_ID. Its identity is its contents: copy it by value.
type InspectID struct {
	Key          uintptr
	SerialNumber uint32
}

// AddrInfo is ADDRINFOEXW, reduced to what a Go resolver gives.
type AddrInfo struct {
	Flags, Family, SocketType, Protocol int
	CanonName                           string
	Addr                                netip.AddrPort
	Next                                *AddrInfo
}

// EventCallbackControl is WSK_EVENT_CALLBACK_CONTROL, the input of SO_WSK_EVENT_CALLBACK.
type EventCallbackControl struct {
	NpiID     [16]byte
	EventMask EventMask
}

// Marshal encodes c as ControlSocket input (20 bytes: NpiID then little-endian mask).
func (c EventCallbackControl) Marshal() []byte { panic("stub") }

// ParseEventCallbackControl decodes ControlSocket input; ok is false for a bad size.
func ParseEventCallbackControl(in []byte) (c EventCallbackControl, ok bool) { panic("stub") }

// Member names a dispatch-table member, for layers and traces.
type Member uint8

const (
	MemberControlSocket Member = iota
	MemberCloseSocket
	MemberBind
	MemberListen
	MemberAccept
	MemberInspectComplete
	MemberConnect
	MemberConnectEx
	MemberGetLocalAddress
	MemberGetRemoteAddress
	MemberSend
	MemberReceive
	MemberDisconnect
	MemberRelease
	MemberSendTo
	MemberReceiveFrom
	MemberSendMessages
	MemberSendEx
	MemberReceiveEx
	NumMembers
)

func (m Member) String() string { panic("stub") }

// Filter is a layer: it sees every call on a table and may return a completion routine
// that the layer sets on the IRP's next stack location before forwarding the call.
type Filter interface {
	Call(m Member, s *Socket, i *irp.IRP) (r irp.CompletionRoutine, ctx any, when irp.Invoke)
}

// Layer stacks f over inner (a table of any category) and returns a table of the same
// category. dev names the layer's stack location. Each layer adds one IRP stack location.
func Layer(inner any, f Filter, dev *irp.Device) any { panic("stub") }
