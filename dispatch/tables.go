package dispatch

import (
	"net/netip"

	"github.com/gowsk/gowsk/irp"
)

// ProviderDispatch is WSK_PROVIDER_DISPATCH: the client-level functions a captured
// provider NPI offers. This table and the socket tables below are those of wsk.h
// (SPEC.md §2.3–2.4), member for member in the header's order; the package doc's Contract,
// Buffers and Guard sections give the rules every member follows.
type ProviderDispatch struct {
	Version  uint16
	Reserved uint16

	// WskSocket. Information of the completed IRP: IoStatus.Object holds the *Socket.
	Socket func(c *Client, family, sotype, protocol int, flags SocketFlags,
		socketContext any, clientDispatch any, i *irp.IRP) irp.Status
	// WskSocketConnect: create, bind (local may be the zero AddrPort for "any") and connect.
	SocketConnect func(c *Client, sotype, protocol int, local, remote netip.AddrPort,
		flags SocketFlags, socketContext any, clientDispatch *ClientConnectionDispatch,
		i *irp.IRP) irp.Status
	// WskControlClient. The IRP is required, optional or forbidden by code (SPEC.md §2.3).
	ControlClient func(c *Client, code ClientControl, in []byte, out []byte,
		outReturned *int, i *irp.IRP) irp.Status
	// WskGetAddressInfo. *result is valid until FreeAddressInfo.
	GetAddressInfo func(c *Client, node, service string, nameSpace uint32,
		hints *AddrInfo, result **AddrInfo, i *irp.IRP) irp.Status
	// WskFreeAddressInfo.
	FreeAddressInfo func(c *Client, ai *AddrInfo)
	// WskGetNameInfo. node and service must not both be nil.
	GetNameInfo func(c *Client, addr netip.AddrPort, node, service *string,
		flags NameInfoFlags, i *irp.IRP) irp.Status
}

// Function types of the socket-level members, named after their WSK counterparts.
type (
	ControlSocketFunc func(s *Socket, reqType ControlType, code uint32, level uint32,
		in []byte, out []byte, outReturned *int, i *irp.IRP) irp.Status
	CloseSocketFunc     func(s *Socket, i *irp.IRP) irp.Status
	BindFunc            func(s *Socket, local netip.AddrPort, flags Flags, i *irp.IRP) irp.Status
	ListenFunc          func(s *Socket, i *irp.IRP) irp.Status
	AcceptFunc          func(s *Socket, flags Flags, acceptContext any, acceptDispatch *ClientConnectionDispatch, local, remote *netip.AddrPort, i *irp.IRP) irp.Status
	InspectCompleteFunc func(s *Socket, id *InspectID, action InspectAction, i *irp.IRP) irp.Status
	ConnectFunc         func(s *Socket, remote netip.AddrPort, flags Flags, i *irp.IRP) irp.Status
	ConnectExFunc       func(s *Socket, remote netip.AddrPort, buf *Buf, flags Flags, i *irp.IRP) irp.Status
	GetAddressFunc      func(s *Socket, addr *netip.AddrPort, i *irp.IRP) irp.Status
	SendFunc            func(s *Socket, buf *Buf, flags Flags, i *irp.IRP) irp.Status
	ReceiveFunc         func(s *Socket, buf *Buf, flags Flags, i *irp.IRP) irp.Status
	DisconnectFunc      func(s *Socket, buf *Buf, flags Flags, i *irp.IRP) irp.Status
	ReleaseFunc         func(s *Socket, list *DataIndication) irp.Status
	SendToFunc          func(s *Socket, buf *Buf, flags Flags, remote *netip.AddrPort, control []byte, i *irp.IRP) irp.Status
	ReceiveFromFunc     func(s *Socket, buf *Buf, flags Flags, remote *netip.AddrPort, control []byte, controlLen *int, controlFlags *uint32, i *irp.IRP) irp.Status
	ReleaseDatagramFunc func(s *Socket, list *DatagramIndication) irp.Status
	SendMessagesFunc    func(s *Socket, bufs *BufList, flags Flags, remote *netip.AddrPort, control []byte, i *irp.IRP) irp.Status
	// ReservedFunc fills the WskSendEx/WskReceiveEx slots, reserved for system use.
	// They always fail with irp.NotSupported.
	ReservedFunc func(s *Socket, i *irp.IRP) irp.Status
)

// BasicDispatch is WSK_PROVIDER_BASIC_DISPATCH. Every category's table embeds it first,
// so any table can be viewed as a basic table (the C code's cast).
type BasicDispatch struct {
	ControlSocket ControlSocketFunc
	CloseSocket   CloseSocketFunc

	// layers is how many [Layer] calls stacked this table on a provider's table (0 for a
	// provider's own); [Socket.StackSize] adds it. It is bookkeeping, not a WSK member.
	layers int
}

// ListenDispatch is WSK_PROVIDER_LISTEN_DISPATCH.
type ListenDispatch struct {
	BasicDispatch
	Bind            BindFunc
	Accept          AcceptFunc
	InspectComplete InspectCompleteFunc
	GetLocalAddress GetAddressFunc
}

// DatagramDispatch is WSK_PROVIDER_DATAGRAM_DISPATCH.
type DatagramDispatch struct {
	BasicDispatch
	Bind            BindFunc
	SendTo          SendToFunc
	ReceiveFrom     ReceiveFromFunc
	Release         ReleaseDatagramFunc
	GetLocalAddress GetAddressFunc
	SendMessages    SendMessagesFunc
}

// ConnectionDispatch is WSK_PROVIDER_CONNECTION_DISPATCH.
type ConnectionDispatch struct {
	BasicDispatch
	Bind             BindFunc
	Connect          ConnectFunc
	GetLocalAddress  GetAddressFunc
	GetRemoteAddress GetAddressFunc
	Send             SendFunc
	Receive          ReceiveFunc
	Disconnect       DisconnectFunc
	Release          ReleaseFunc
	ConnectEx        ConnectExFunc
	SendEx           ReservedFunc
	ReceiveEx        ReservedFunc
}

// StreamDispatch is WSK_PROVIDER_STREAM_DISPATCH (Windows 10 1703 and later).
type StreamDispatch struct {
	BasicDispatch
	Bind             BindFunc
	Accept           AcceptFunc
	Connect          ConnectFunc
	Listen           ListenFunc
	Send             SendFunc
	Receive          ReceiveFunc
	Disconnect       DisconnectFunc
	Release          ReleaseFunc
	GetLocalAddress  GetAddressFunc
	GetRemoteAddress GetAddressFunc
	ConnectEx        ConnectExFunc
	SendEx           ReservedFunc
	ReceiveEx        ReservedFunc
}
