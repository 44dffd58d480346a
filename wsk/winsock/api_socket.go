package winsock

import (
	"net/netip"

	"github.com/gowsk/gowsk/irp"
)

// WSA_FLAG_* of WSASocket.
const WSAFlagOverlapped uint32 = 0x01

// Socket is socket(af, type, protocol): WSASocket with no protocol info.
func (t *Thread) Socket(af, sotype, protocol int) (Socket, error) {
	return t.WSASocket(af, sotype, protocol, nil, WSAFlagOverlapped)
}

// WSASocket creates a socket of the catalog entry matching (af, sotype, protocol), or,
// with af, sotype and protocol FromProtocolInfo and info from WSADuplicateSocket, a new
// SOCKET for the duplicated socket: single use, a second use or an unknown info is
// WSAEINVAL. A nil info with FromProtocolInfo is WSAEFAULT.
func (t *Thread) WSASocket(af, sotype, protocol int, info *ProtocolInfo, flags uint32) (Socket, error) {
	const op = "WSASocket"
	if code := t.plain(); code != 0 {
		return InvalidSocket, wsaErr(op, code)
	}
	defer t.plainDone()
	w := t.w
	if af == FromProtocolInfo || sotype == FromProtocolInfo || protocol == FromProtocolInfo {
		if info == nil {
			return InvalidSocket, wsaErr(op, WSAEFAULT)
		}
		h, code := w.socketFromInfo(info)
		return h, wsaErr(op, code)
	}
	var entry *ProtocolInfo
	for k := range w.catalog {
		p := &w.catalog[k]
		if p.AddressFamily == af && p.SocketType == sotype && (protocol == 0 || protocol == p.Protocol) {
			entry = p
			break
		}
	}
	if entry == nil {
		switch {
		case af != AFInet && af != AFInet6:
			return InvalidSocket, wsaErr(op, WSAEAFNOSUPPORT)
		case sotype != SockStream && sotype != SockDgram:
			return InvalidSocket, wsaErr(op, WSAESOCKTNOSUPPORT)
		}
		return InvalidSocket, wsaErr(op, WSAEPROTONOSUPPORT)
	}
	ph, code := w.top.Socket(af, sotype, entry.Protocol, entry, flags)
	if code != 0 {
		return InvalidSocket, wsaErr(op, code)
	}
	h, code := w.newSocket(ph, *entry, Linger{})
	if code != 0 {
		_ = w.top.CloseSocket(ph)
		return InvalidSocket, wsaErr(op, code)
	}
	return h, nil
}

// Bind is bind.
func (t *Thread) Bind(s Socket, local netip.AddrPort) error {
	e, code := t.call(s)
	if code != 0 {
		return wsaErr("bind", code)
	}
	defer t.done(e)
	return wsaErr("bind", e.answer(t.w.top.Bind(e.s.ph, local)))
}

// Listen is listen; the socket must be bound (WSAEINVAL).
func (t *Thread) Listen(s Socket, backlog int) error {
	e, code := t.call(s)
	if code != 0 {
		return wsaErr("listen", code)
	}
	defer t.done(e)
	return wsaErr("listen", e.answer(t.w.top.Listen(e.s.ph, backlog)))
}

// Accept is accept: blocking (or WSAEWOULDBLOCK on a nonblocking listener). The new
// SOCKET is blocking and inherits the listener's linger setting. A closesocket of the
// listener from another goroutine ends a blocked Accept with WSAEINTR.
func (t *Thread) Accept(s Socket) (Socket, netip.AddrPort, error) {
	const op = "accept"
	e, code := t.call(s)
	if code != 0 {
		return InvalidSocket, netip.AddrPort{}, wsaErr(op, code)
	}
	defer t.done(e)
	var remote netip.AddrPort
	ph, code := t.w.top.Accept(e.s.ph, &remote)
	if code = e.answer(code); code != 0 {
		return InvalidSocket, remote, wsaErr(op, code)
	}
	e.s.mu.Lock()
	lg := e.s.linger
	e.s.mu.Unlock()
	h, code := t.w.newSocket(ph, e.s.info, lg)
	if code != 0 {
		_ = t.w.top.CloseSocket(ph)
		return InvalidSocket, remote, wsaErr(op, code)
	}
	return h, remote, nil
}

// Connect is connect: blocking, or WSAEWOULDBLOCK on a nonblocking socket (the outcome
// then comes as FD_CONNECT and SO_ERROR; WSAEALREADY while it runs, WSAEISCONN after).
func (t *Thread) Connect(s Socket, remote netip.AddrPort) error {
	e, code := t.call(s)
	if code != 0 {
		return wsaErr("connect", code)
	}
	defer t.done(e)
	return wsaErr("connect", e.answer(t.w.top.Connect(e.s.ph, remote)))
}

// GetSockName is getsockname.
func (t *Thread) GetSockName(s Socket) (netip.AddrPort, error) {
	return t.name("getsockname", s, t.w.top.GetSockName)
}

// GetPeerName is getpeername.
func (t *Thread) GetPeerName(s Socket) (netip.AddrPort, error) {
	return t.name("getpeername", s, t.w.top.GetPeerName)
}

func (t *Thread) name(op string, s Socket, fn func(Socket) (netip.AddrPort, WSAError)) (netip.AddrPort, error) {
	e, code := t.call(s)
	if code != 0 {
		return netip.AddrPort{}, wsaErr(op, code)
	}
	defer t.done(e)
	a, code := fn(e.s.ph)
	return a, wsaErr(op, e.answer(code))
}

// Shutdown is shutdown(s, how): SD_SEND sends a FIN after the queued data and later
// sends fail with WSAESHUTDOWN; SD_RECEIVE refuses later receives (WSAESHUTDOWN) and
// resets the connection if data is waiting or arrives; SD_BOTH is both. It never
// blocks, whatever the linger setting, and cannot be undone. Another how is WSAEINVAL;
// an unconnected stream socket is WSAENOTCONN.
func (t *Thread) Shutdown(s Socket, how int) error {
	const op = "shutdown"
	e, code := t.call(s)
	if code != 0 {
		return wsaErr(op, code)
	}
	defer t.done(e)
	if how != SDReceive && how != SDSend && how != SDBoth {
		return wsaErr(op, irp.WSAEINVAL)
	}
	if code := e.answer(t.w.top.Shutdown(e.s.ph, how)); code != 0 {
		return wsaErr(op, code)
	}
	bits := map[int]int{SDReceive: shutRecv, SDSend: shutSend, SDBoth: shutRecv | shutSend}[how]
	e.s.mu.Lock()
	e.s.shut |= bits
	e.s.mu.Unlock()
	return nil
}

// CreateIoCompletionPort associates s with port (key comes back in each packet), or
// with s InvalidSocket creates a port. A nil port with a socket creates one too.
// Completions of overlapped operations without a completion routine then go to the
// port instead of the operation's event.
func (t *Thread) CreateIoCompletionPort(s Socket, port *CompletionPort, key uintptr) (*CompletionPort, error) {
	const op = "CreateIoCompletionPort"
	if s == InvalidSocket {
		if code := t.plain(); code != 0 {
			return nil, wsaErr(op, code)
		}
		defer t.plainDone()
		if port == nil {
			port = newPort(t.w)
		}
		return port, nil
	}
	if port == nil {
		port = newPort(t.w)
	}
	e, code := t.call(s)
	if code != 0 {
		return nil, wsaErr(op, code)
	}
	defer t.done(e)
	we, ok := t.w.wpu.get(uint64(e.s.ph))
	if !ok {
		return nil, wsaErr(op, WSAInvalidHandle)
	}
	we.mu.Lock()
	defer we.mu.Unlock()
	if we.port != nil {
		return nil, wsaErr(op, WSAInvalidParameter) // one port per socket, as Windows
	}
	we.port, we.key = port, key
	return port, nil
}
