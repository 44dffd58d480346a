package winsock

import (
	"net/netip"

	"github.com/gowsk/gowsk/irp"
)

// MaxIO bounds the bytes of one send or receive call (the buffers of a call are lent to
// wsk whole); more is WSAENOBUFS.
const MaxIO = 64 << 20

func total(bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n
}

// io is every send and receive: the checks the switch owns (shutdown, sizes, the
// Overlapped), then the provider.
func (t *Thread) io(op string, s Socket, send bool, bufs [][]byte, ov *Overlapped,
	call func(ph Socket, tid *ThreadID) (uint32, WSAError)) (uint32, error) {
	e, code := t.call(s)
	if code != 0 {
		return 0, wsaErr(op, code)
	}
	defer t.done(e)
	e.s.mu.Lock()
	shut := e.s.shut
	e.s.mu.Unlock()
	switch {
	case send && shut&shutSend != 0, !send && shut&shutRecv != 0:
		return 0, wsaErr(op, irp.WSAESHUTDOWN)
	case total(bufs) > MaxIO:
		return 0, wsaErr(op, irp.WSAENOBUFS)
	}
	if ov != nil && !ov.Begin() {
		return 0, wsaErr(op, irp.WSAEINVAL) // its earlier operation is still pending
	}
	tid := t.ID()
	n, code := call(e.s.ph, &tid)
	code = e.answer(code)
	if ov != nil && code != 0 && code != irp.WSAIOPending {
		ov.abandon() // refused before it started: no notification will come
	}
	if code != 0 {
		return n, wsaErr(op, code)
	}
	return n, nil
}

// Send is send: blocking (or WSAEWOULDBLOCK when nonblocking and the socket's send
// queue is busy); it returns the bytes sent.
func (t *Thread) Send(s Socket, b []byte, flags uint32) (int, error) {
	n, err := t.io("send", s, true, [][]byte{b}, nil, func(ph Socket, _ *ThreadID) (uint32, WSAError) {
		return t.w.top.Send(ph, [][]byte{b}, flags, nil, nil, nil)
	})
	return int(n), err
}

// Recv is recv: blocking (or WSAEWOULDBLOCK when nonblocking and nothing is waiting);
// 0 bytes and no error is the peer's FIN.
func (t *Thread) Recv(s Socket, b []byte, flags uint32) (int, error) {
	n, err := t.io("recv", s, false, [][]byte{b}, nil, func(ph Socket, _ *ThreadID) (uint32, WSAError) {
		fl := flags
		return t.w.top.Recv(ph, [][]byte{b}, &fl, nil, nil, nil)
	})
	return int(n), err
}

// SendTo is sendto (datagram sockets; a connected one may pass the zero address).
func (t *Thread) SendTo(s Socket, b []byte, flags uint32, to netip.AddrPort) (int, error) {
	n, err := t.io("sendto", s, true, [][]byte{b}, nil, func(ph Socket, _ *ThreadID) (uint32, WSAError) {
		return t.w.top.SendTo(ph, [][]byte{b}, flags, to, nil, nil, nil)
	})
	return int(n), err
}

// RecvFrom is recvfrom.
func (t *Thread) RecvFrom(s Socket, b []byte, flags uint32) (int, netip.AddrPort, error) {
	var from netip.AddrPort
	n, err := t.io("recvfrom", s, false, [][]byte{b}, nil, func(ph Socket, _ *ThreadID) (uint32, WSAError) {
		fl := flags
		return t.w.top.RecvFrom(ph, [][]byte{b}, &fl, &from, nil, nil, nil)
	})
	return int(n), from, err
}

// WSASend is WSASend. With ov nil it is send. With ov it is overlapped: it returns
// WSA_IO_PENDING (as an *Error) or, when it finished at once, nil and the count; either
// way the completion is reported once, through cr as an APC to t when cr is given,
// else through the completion port the socket is associated with, else ov.Event.
// A close of the socket completes it with WSA_OPERATION_ABORTED.
func (t *Thread) WSASend(s Socket, bufs [][]byte, flags uint32, ov *Overlapped, cr CompletionRoutine) (uint32, error) {
	return t.io("WSASend", s, true, bufs, ov, func(ph Socket, tid *ThreadID) (uint32, WSAError) {
		return t.w.top.Send(ph, bufs, flags, ov, cr, tid)
	})
}

// WSARecv is WSARecv, overlapped as WSASend.
func (t *Thread) WSARecv(s Socket, bufs [][]byte, flags *uint32, ov *Overlapped, cr CompletionRoutine) (uint32, error) {
	return t.io("WSARecv", s, false, bufs, ov, func(ph Socket, tid *ThreadID) (uint32, WSAError) {
		return t.w.top.Recv(ph, bufs, flags, ov, cr, tid)
	})
}

// WSASendTo is WSASendTo, overlapped as WSASend.
func (t *Thread) WSASendTo(s Socket, bufs [][]byte, flags uint32, to netip.AddrPort, ov *Overlapped, cr CompletionRoutine) (uint32, error) {
	return t.io("WSASendTo", s, true, bufs, ov, func(ph Socket, tid *ThreadID) (uint32, WSAError) {
		return t.w.top.SendTo(ph, bufs, flags, to, ov, cr, tid)
	})
}

// WSARecvFrom is WSARecvFrom, overlapped as WSASend; *from is written when it
// completes.
func (t *Thread) WSARecvFrom(s Socket, bufs [][]byte, flags *uint32, from *netip.AddrPort, ov *Overlapped, cr CompletionRoutine) (uint32, error) {
	return t.io("WSARecvFrom", s, false, bufs, ov, func(ph Socket, tid *ThreadID) (uint32, WSAError) {
		return t.w.top.RecvFrom(ph, bufs, flags, from, ov, cr, tid)
	})
}

// WSAGetOverlappedResult is WSAGetOverlappedResult: the outcome of ov's operation;
// WSA_IO_INCOMPLETE while it is pending and wait is false; with wait it blocks until it
// completes (not alertable). The SOCKET is not checked beyond being open at the call:
// the operation's completion may come after a close.
func (t *Thread) WSAGetOverlappedResult(s Socket, ov *Overlapped, wait bool) (bytes, flags uint32, err error) {
	const op = "WSAGetOverlappedResult"
	if ov == nil {
		return 0, 0, wsaErr(op, WSAEFAULT)
	}
	if wait {
		<-ov.doneChan()
	}
	code, n, fl, pending := ov.Result()
	if pending {
		return 0, 0, wsaErr(op, WSAIOIncomplete)
	}
	return n, fl, wsaErr(op, code)
}
