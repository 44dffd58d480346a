package winsock

import "net/netip"

// Socket is SOCKET: a handle the switch hands to the application, or (at the SPI) one
// a provider made with WPUCreateSocketHandle. The two come from different tables, so
// one is never accepted where the other is expected (WSAENOTSOCK).
type Socket uint64

// InvalidSocket is INVALID_SOCKET.
const InvalidSocket = ^Socket(0)

// ProtocolInfo is WSAPROTOCOL_INFOW, reduced to what this model uses. Chain is the
// protocol chain, top first: one entry for a base provider, the layers then the base
// for a layered one.
type ProtocolInfo struct {
	CatalogEntryID uint32
	AddressFamily  int
	SocketType     int
	Protocol       int
	Chain          []uint32
	ProtocolName   string

	dupKey uint64 // set by WSADuplicateSocket: the single-use key of the shared socket
}

// NetworkEvents is WSANETWORKEVENTS: the FD_* bits that happened since the last
// WSAEnumNetworkEvents, and the error code of each (indexed by FD_*_BIT).
type NetworkEvents struct {
	NetworkEvents int32
	ErrorCode     [FDMaxEvents]WSAError
}

// FD_* network events (WSAEventSelect), with their Windows values and bit numbers.
const (
	FDRead    int32 = 1 << FDReadBit
	FDWrite   int32 = 1 << FDWriteBit
	FDAccept  int32 = 1 << FDAcceptBit
	FDConnect int32 = 1 << FDConnectBit
	FDClose   int32 = 1 << FDCloseBit

	FDReadBit    = 0
	FDWriteBit   = 1
	FDAcceptBit  = 3
	FDConnectBit = 4
	FDCloseBit   = 5
	FDMaxEvents  = 10

	fdAll = FDRead | FDWrite | FDAccept | FDConnect | FDClose
)

// WSPProcTable is WSPPROC_TABLE: the functions a provider gives the switch (or the
// layer above it), in WSPPROC_TABLE's order, for the members this model implements.
// Every member returns 0 or the WSA code (the C lpErrno). A nil member is
// WSAEOPNOTSUPP at the switch.
//
// Overlapped members (Recv, RecvFrom, Send, SendTo): with ov nil the call is
// synchronous, blocking or WSAEWOULDBLOCK as the socket's FIONBIO says. With ov the
// provider starts the operation and returns WSA_IO_PENDING, or 0 with the byte count
// when it finished at once successfully (an operation that started and failed at once
// is WSA_IO_PENDING too: its failure comes with the notification; any other code means
// it never started and nothing will be notified); either way it reports the completion
// exactly once: with
// cr nil by WPUCompleteOverlappedRequest (event or completion port), with cr by an
// APC queued to tid with WPUQueueApc, the result set first with ov.SetResult.
type WSPProcTable struct {
	Accept            func(s Socket, remote *netip.AddrPort) (Socket, WSAError)
	Bind              func(s Socket, local netip.AddrPort) WSAError
	Cleanup           func() WSAError
	CloseSocket       func(s Socket) WSAError
	Connect           func(s Socket, remote netip.AddrPort) WSAError
	EnumNetworkEvents func(s Socket, ev *Event, ne *NetworkEvents) WSAError
	EventSelect       func(s Socket, ev *Event, mask int32) WSAError
	GetPeerName       func(s Socket) (netip.AddrPort, WSAError)
	GetSockName       func(s Socket) (netip.AddrPort, WSAError)
	GetSockOpt        func(s Socket, level, name int32, val []byte) (int, WSAError)
	Ioctl             func(s Socket, code uint32, in, out []byte, obj *any) (int, WSAError)
	Listen            func(s Socket, backlog int) WSAError
	Recv              func(s Socket, bufs [][]byte, flags *uint32, ov *Overlapped, cr CompletionRoutine, tid *ThreadID) (uint32, WSAError)
	RecvFrom          func(s Socket, bufs [][]byte, flags *uint32, from *netip.AddrPort, ov *Overlapped, cr CompletionRoutine, tid *ThreadID) (uint32, WSAError)
	Send              func(s Socket, bufs [][]byte, flags uint32, ov *Overlapped, cr CompletionRoutine, tid *ThreadID) (uint32, WSAError)
	SendTo            func(s Socket, bufs [][]byte, flags uint32, to netip.AddrPort, ov *Overlapped, cr CompletionRoutine, tid *ThreadID) (uint32, WSAError)
	SetSockOpt        func(s Socket, level, name int32, val []byte) WSAError
	Shutdown          func(s Socket, how int) WSAError
	Socket            func(af, sotype, protocol int, info *ProtocolInfo, flags uint32) (Socket, WSAError)
}

// Provider is one installed provider: its WSPStartup. Startup is called once per
// WSAStartup with the upcall table, the catalog entry id it was given and, for a
// layered provider, the table of the provider below it (nil for the base). It returns
// its own table.
type Provider struct {
	Name    string
	Startup func(up *Upcalls, catalogID uint32, lower *WSPProcTable) (*WSPProcTable, WSAError)
}

// Upcalls is the WPU upcall table a provider gets in WSPStartup. Every member returns
// WSANOTINITIALISED once WSACleanup has run.
type Upcalls struct {
	// CloseSocketHandle is WPUCloseSocketHandle: the provider's last upcall for s.
	// WSAENOTSOCK for a handle that did not come from CreateSocketHandle (or is closed).
	CloseSocketHandle func(s Socket) WSAError
	// CreateSocketHandle is WPUCreateSocketHandle: a new handle carrying ctx (read back
	// with QuerySocketHandleContext). WSAENOBUFS when the table is full, WSAEINVAL for
	// an unknown catalog id.
	CreateSocketHandle func(catalogID uint32, ctx any) (Socket, WSAError)
	// QuerySocketHandleContext is WPUQuerySocketHandleContext. WSAENOTSOCK for a handle
	// not made by CreateSocketHandle, or closed.
	QuerySocketHandleContext func(s Socket) (any, WSAError)
	// OpenCurrentThread is WPUOpenCurrentThread: a new thread context owned by the
	// calling goroutine (Go has no current thread to name). Each success needs one
	// CloseThread.
	OpenCurrentThread func() (*Thread, WSAError)
	// CloseThread is WPUCloseThread: runs the APCs still queued on the context (on the
	// caller, its owner) and closes it. WSAEINVAL for a context already closed or never
	// opened (Windows leaves it undefined).
	CloseThread func(tid ThreadID) WSAError
	// QueueApc is WPUQueueApc: fn(ctx, data) runs on tid's goroutine at its next
	// alertable point. WSAEFAULT for an unknown or closed thread, WSAENOBUFS when its
	// queue is full.
	QueueApc func(tid ThreadID, fn APCFunc, ctx uintptr, data any) WSAError
	// CompleteOverlappedRequest is WPUCompleteOverlappedRequest: it records the result
	// in ov, then posts a packet to the completion port s is associated with, or sets
	// ov.Event. WSAEINVAL for a handle not made by CreateSocketHandle, WSAEFAULT for a
	// nil ov; WSAEINVAL too for an ov with no operation in progress (a second
	// completion, counted in Stats.DoubleCompletions).
	CompleteOverlappedRequest func(s Socket, ov *Overlapped, err WSAError, bytes uint32) WSAError
}
