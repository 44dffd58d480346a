package winsock

import (
	"context"
	"net/netip"
	"sync"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
)

// The base provider: every SOCKET ends in one of its sockets, each a wsk socket (a
// stream socket for TCP, which becomes a listener or a connection; a connection socket
// for what accept returns; a datagram socket for UDP). It talks to the switch only
// through its WSPPROC_TABLE and the WPU upcalls, and to wsk only through wsk's public
// tables, as any WSK client. Its WSPCloseSocket is a hard close, as the SAN provider's:
// cancel everything, reset a connection; graceful close and linger are the switch's
// (close.go), which first takes the connection (SIOTakeConnection).

// Winsock address families, types and protocols (the Windows values).
const (
	AFInet           = 2
	AFInet6          = 23
	SockStream       = 1
	SockDgram        = 2
	IPProtoTCP       = 6
	IPProtoUDP       = 17
	SOMaxConn        = 0x7fffffff
	FromProtocolInfo = -1 // FROM_PROTOCOL_INFO
)

var baseProtocols = []ProtocolInfo{
	{AddressFamily: AFInet, SocketType: SockStream, Protocol: IPProtoTCP, ProtocolName: "gowsk TCP/IP"},
	{AddressFamily: AFInet6, SocketType: SockStream, Protocol: IPProtoTCP, ProtocolName: "gowsk TCP/IPv6"},
	{AddressFamily: AFInet, SocketType: SockDgram, Protocol: IPProtoUDP, ProtocolName: "gowsk UDP/IP"},
	{AddressFamily: AFInet6, SocketType: SockDgram, Protocol: IPProtoUDP, ProtocolName: "gowsk UDP/IPv6"},
}

// base is the base provider of one session.
type base struct {
	w   *WSA // for its counters only
	npi wsk.ProviderNPI
	up  *Upcalls
	id  uint32

	mu    sync.Mutex
	socks map[*baseSock]struct{} // open sockets, for WSPCleanup
}

// bstate is a base socket's state, under baseSock.mu:
//
//	bBound       bound (explicitly, or implicitly by connect/sendto)
//	bListening   WSPListen succeeded
//	bConnecting  a connect is in progress
//	bConnected   connected (connect completed, or accepted)
//	bPeerFIN     a receive returned 0 bytes: the peer shut down its side
//	bTaken       the switch took the connection for a graceful close (SIOTakeConnection)
//	bClosed      WSPCloseSocket has begun: every later call is WSAENOTSOCK
type bstate uint32

const (
	bBound bstate = 1 << iota
	bListening
	bConnecting
	bConnected
	bPeerFIN
	bTaken
	bClosed
)

func (s bstate) has(b bstate) bool { return s&b != 0 }

// baseSock is one base socket.
type baseSock struct {
	b      *base
	h      Socket // its WPUCreateSocketHandle handle
	af     int
	sotype int
	ws     *dispatch.Socket

	mu          sync.Mutex
	st          bstate
	nonblocking bool
	soError     WSAError // SO_ERROR: a failed nonblocking connect, read once
	sticky      WSAError // the connection's terminal error
	remote      netip.AddrPort
	ops         map[*bop]struct{} // user operations not completed yet
	bgSends     int               // nonblocking sends accepted and still in wsk
	opsDone     chan struct{}     // closed when ops empties after bClosed
	ev          evsel             // WSAEventSelect state (events.go)
}

func startBase(w *WSA, up *Upcalls, id uint32) (*WSPProcTable, WSAError) {
	b := &base{w: w, npi: w.npi, up: up, id: id, socks: make(map[*baseSock]struct{})}
	return &WSPProcTable{
		Accept:            b.accept,
		Bind:              b.bind,
		Cleanup:           b.cleanup,
		CloseSocket:       b.closeSocket,
		Connect:           b.connect,
		EnumNetworkEvents: b.enumNetworkEvents,
		EventSelect:       b.eventSelect,
		GetPeerName:       b.getPeerName,
		GetSockName:       b.getSockName,
		GetSockOpt:        b.getSockOpt,
		Ioctl:             b.ioctl,
		Listen:            b.listen,
		Recv:              b.recv,
		RecvFrom:          b.recvFrom,
		Send:              b.send,
		SendTo:            b.sendTo,
		SetSockOpt:        b.setSockOpt,
		Shutdown:          b.shutdown,
		Socket:            b.socket,
	}, 0
}

// sockOf returns the base socket behind a handle; WSAENOTSOCK for anything else or a
// closed one.
func (b *base) sockOf(h Socket) (*baseSock, WSAError) {
	c, code := b.up.QuerySocketHandleContext(h)
	if code != 0 {
		return nil, code
	}
	s, ok := c.(*baseSock)
	if !ok || s.b != b {
		return nil, irp.WSAENOTSOCK
	}
	s.mu.Lock()
	closed := s.st.has(bClosed)
	s.mu.Unlock()
	if closed {
		return nil, irp.WSAENOTSOCK
	}
	return s, 0
}

// call is one synchronous wsk call on s's socket (never from a completion routine).
func (s *baseSock) call(fn func(i *irp.IRP) irp.Status) irp.IoStatusBlock {
	return wsk.Call(context.Background(), s.ws.StackSize(), fn)
}

func wskFamily(af int) (int, bool) {
	switch af {
	case AFInet:
		return wsk.AFInet, true
	case AFInet6:
		return wsk.AFInet6, true
	}
	return 0, false
}

// statusCode maps a wsk status to the Winsock code this layer reports.
func statusCode(st irp.Status) WSAError {
	switch st {
	case irp.Success:
		return 0
	case irp.InvalidDeviceState:
		return irp.WSAENOTCONN
	case irp.FileForcedClosed:
		return irp.WSAECONNABORTED
	}
	return st.Winsock()
}

func (b *base) socket(af, sotype, protocol int, info *ProtocolInfo, flags uint32) (Socket, WSAError) {
	fam, ok := wskFamily(af)
	if !ok {
		return InvalidSocket, WSAEAFNOSUPPORT
	}
	var cat dispatch.SocketFlags
	var proto int
	var cd any
	s := &baseSock{b: b, af: af, sotype: sotype, ops: make(map[*bop]struct{})}
	switch sotype {
	case SockStream:
		if protocol != 0 && protocol != IPProtoTCP {
			return InvalidSocket, WSAEPROTONOSUPPORT
		}
		cat, proto = dispatch.StreamSocket, wsk.IPProtoTCP
		cd = &dispatch.ClientStreamDispatch{Listen: &baseListenEvents, Connect: &baseConnEvents}
	case SockDgram:
		if protocol != 0 && protocol != IPProtoUDP {
			return InvalidSocket, WSAEPROTONOSUPPORT
		}
		cat, proto = dispatch.DatagramSocket, wsk.IPProtoUDP
	default:
		return InvalidSocket, WSAESOCKTNOSUPPORT
	}
	res := wsk.Call(context.Background(), 1, func(i *irp.IRP) irp.Status {
		return b.npi.Dispatch.Socket(b.npi.Client, fam, wskType(sotype), proto, cat, s, cd, i)
	})
	if res.Status != irp.Success {
		return InvalidSocket, statusCode(res.Status)
	}
	s.ws = res.Object.(*dispatch.Socket)
	return b.register(s)
}

func wskType(sotype int) int {
	if sotype == SockDgram {
		return wsk.SockDgram
	}
	return wsk.SockStream
}

// register gives s its handle; on failure the wsk socket is closed again.
func (b *base) register(s *baseSock) (Socket, WSAError) {
	h, code := b.up.CreateSocketHandle(b.id, s)
	if code != 0 {
		closeWSK(s.ws, false)
		return InvalidSocket, code
	}
	s.h = h
	b.mu.Lock()
	b.socks[s] = struct{}{}
	b.mu.Unlock()
	return h, 0
}

func (b *base) bind(h Socket, local netip.AddrPort) WSAError {
	s, code := b.sockOf(h)
	if code != 0 {
		return code
	}
	return s.bind(local)
}

func (s *baseSock) bind(local netip.AddrPort) WSAError {
	if !local.IsValid() || (local.Addr().Is4() != (s.af == AFInet) && !local.Addr().Is4In6()) {
		return WSAEFAULT
	}
	s.mu.Lock()
	if s.st.has(bBound) {
		s.mu.Unlock()
		return irp.WSAEINVAL
	}
	s.mu.Unlock()
	var res irp.IoStatusBlock
	if s.sotype == SockDgram {
		t := s.ws.Datagram()
		res = s.call(func(i *irp.IRP) irp.Status { return t.Bind(s.ws, local, 0, i) })
	} else {
		t := s.ws.Stream()
		res = s.call(func(i *irp.IRP) irp.Status { return t.Bind(s.ws, local, 0, i) })
	}
	if res.Status != irp.Success {
		if res.Status == irp.AddressAlreadyAssociated {
			return irp.WSAEADDRINUSE
		}
		return statusCode(res.Status)
	}
	s.mu.Lock()
	s.st |= bBound
	s.mu.Unlock()
	return 0
}

// bindAny binds s to the unspecified address of its family when it is not bound.
func (s *baseSock) bindAny() WSAError {
	s.mu.Lock()
	bound := s.st.has(bBound)
	s.mu.Unlock()
	if bound {
		return 0
	}
	a := netip.IPv4Unspecified()
	if s.af == AFInet6 {
		a = netip.IPv6Unspecified()
	}
	if code := s.bind(netip.AddrPortFrom(a, 0)); code != irp.WSAEINVAL {
		return code
	}
	return 0 // bound meanwhile by another call
}

func (b *base) listen(h Socket, backlog int) WSAError {
	s, code := b.sockOf(h)
	if code != 0 {
		return code
	}
	if s.sotype != SockStream {
		return irp.WSAEOPNOTSUPP
	}
	s.mu.Lock()
	st := s.st
	s.mu.Unlock()
	switch {
	case st.has(bListening):
		return 0
	case !st.has(bBound), st.has(bConnected | bConnecting):
		return irp.WSAEINVAL
	}
	t := s.ws.Stream()
	res := s.call(func(i *irp.IRP) irp.Status { return t.Listen(s.ws, i) })
	if res.Status != irp.Success {
		return statusCode(res.Status)
	}
	s.mu.Lock()
	s.st |= bListening
	s.mu.Unlock()
	s.arm()
	return 0
}

func (b *base) getSockName(h Socket) (netip.AddrPort, WSAError) {
	s, code := b.sockOf(h)
	if code != 0 {
		return netip.AddrPort{}, code
	}
	var a netip.AddrPort
	var res irp.IoStatusBlock
	switch {
	case s.ws.Datagram() != nil:
		t := s.ws.Datagram()
		res = s.call(func(i *irp.IRP) irp.Status { return t.GetLocalAddress(s.ws, &a, i) })
	case s.ws.Stream() != nil:
		t := s.ws.Stream()
		res = s.call(func(i *irp.IRP) irp.Status { return t.GetLocalAddress(s.ws, &a, i) })
	default:
		t := s.ws.Connection()
		res = s.call(func(i *irp.IRP) irp.Status { return t.GetLocalAddress(s.ws, &a, i) })
	}
	if res.Status != irp.Success {
		return a, irp.WSAEINVAL // not bound
	}
	return a, 0
}

func (b *base) getPeerName(h Socket) (netip.AddrPort, WSAError) {
	s, code := b.sockOf(h)
	if code != 0 {
		return netip.AddrPort{}, code
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.st.has(bConnected) {
		return netip.AddrPort{}, irp.WSAENOTCONN
	}
	return s.remote, 0
}

// cleanup is WSPCleanup: every socket still open is closed hard.
func (b *base) cleanup() WSAError {
	b.mu.Lock()
	rest := make([]*baseSock, 0, len(b.socks))
	for s := range b.socks {
		rest = append(rest, s)
	}
	b.mu.Unlock()
	for _, s := range rest {
		_ = b.closeSocket(s.h)
	}
	return 0
}

// closeWSK closes a wsk socket hard: an abortive disconnect first when it may carry a
// connection, then CloseSocket. Synchronous; the close never waits on the network.
func closeWSK(ws *dispatch.Socket, abort bool) {
	ctx := context.Background()
	if t, ok := connOf(ws); ok && abort {
		_ = wsk.Call(ctx, ws.StackSize(), func(i *irp.IRP) irp.Status {
			return t.disconnect(ws, nil, dispatch.FlagAbortive, i)
		})
	}
	_ = wsk.Call(ctx, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Basic().CloseSocket(ws, i) })
}
