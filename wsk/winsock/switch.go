package winsock

import (
	"sync"
	"sync/atomic"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/refcount"
)

// sock is the switch's record of one underlying socket: the top provider's handle and
// the state the switch owns (linger, nonblocking close, shutdown). The SOCKETs
// duplicated from it share it; refs counts them, and the last closesocket closes it.
type sock struct {
	w    *WSA
	ph   Socket // the top provider's handle (WSPSocket / WSPAccept)
	info ProtocolInfo
	refs *refcount.Ref

	mu          sync.Mutex
	linger      Linger
	lastLinger  uint16 // the l_linger SO_LINGER set last, reinstated by SO_DONTLINGER
	nonblocking bool
	shut        int // shutSend | shutRecv: never cleared
}

const (
	shutSend = 1 << iota
	shutRecv
)

// entry is one SOCKET: a name for a sock. rd guards the calls made through it.
type entry struct {
	s       *sock
	rd      refcount.Rundown
	closing atomic.Bool // a closesocket of this SOCKET is running (or done)
}

// call is the prologue of every call on a SOCKET: t is open (WSAEINVAL once closed),
// the session is up, t is not busy with another call, the SOCKET is open. done must be
// called at the end.
func (t *Thread) call(s Socket) (e *entry, code WSAError) {
	if t == nil {
		return nil, WSAEFAULT
	}
	w := t.w
	if !w.begin() {
		return nil, irp.WSANOTINITIALISED
	}
	if t.isClosed() {
		w.end()
		return nil, irp.WSAEINVAL
	}
	if !t.enter() {
		w.end()
		return nil, irp.WSAEINPROGRESS
	}
	e, ok := w.sockets.get(uint64(s))
	if !ok || !e.rd.Acquire() {
		t.leave()
		w.end()
		return nil, irp.WSAENOTSOCK
	}
	return e, 0
}

func (t *Thread) done(e *entry) {
	e.rd.Release()
	t.leave()
	t.w.end()
}

// plain is the prologue of calls that name no SOCKET.
func (t *Thread) plain() WSAError {
	if t == nil {
		return WSAEFAULT
	}
	if !t.w.begin() {
		return irp.WSANOTINITIALISED
	}
	if t.isClosed() {
		t.w.end()
		return irp.WSAEINVAL
	}
	if !t.enter() {
		t.w.end()
		return irp.WSAEINPROGRESS
	}
	return 0
}

func (t *Thread) plainDone() {
	t.leave()
	t.w.end()
}

// newSocket gives ph (a top provider handle) a switch record and a SOCKET.
func (w *WSA) newSocket(ph Socket, info ProtocolInfo, lg Linger) (Socket, WSAError) {
	s := &sock{w: w, ph: ph, info: info, refs: refcount.NewRef(nil), linger: lg, lastLinger: lg.Linger}
	return w.addEntry(s)
}

func (w *WSA) addEntry(s *sock) (Socket, WSAError) {
	h, ok := w.sockets.add(&entry{s: s})
	if !ok {
		return InvalidSocket, WSAEMFILE
	}
	return Socket(h), 0
}
