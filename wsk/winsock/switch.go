package winsock

import (
	"sync"

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
	s  *sock
	rd refcount.Rundown

	// The close decision of this SOCKET (closesocket's steps 1-3), under closeMu:
	//
	//	closeOpen      no closesocket holds the decision
	//	closeDeciding  one closesocket won step 1 and has not decided yet; another one
	//	               waits on closeWait for the outcome instead of answering early
	//	closeDone      step 3 took the SOCKET out of the table: the close is where every
	//	               call on this SOCKET linearizes, and a later closesocket gets
	//	               WSAENOTSOCK
	//
	// Deciding goes back to open when step 2 hands the close back (WSAEWOULDBLOCK).
	// closeWait is made by the first closesocket that has to wait and closed at the
	// decision, so a close with no contender allocates nothing. No provider call runs
	// under closeMu.
	closeMu    sync.Mutex
	closeState uint8
	closeWait  chan struct{}
}

const (
	closeOpen uint8 = iota
	closeDeciding
	closeDone
)

// winClose is step 1 of closesocket: true when this call now holds the SOCKET's close
// decision, false when another closesocket already took the SOCKET out of the table.
// While another one decides it waits for the outcome: a closesocket answers
// WSAENOTSOCK only once the SOCKET is gone, so no call after that answer still finds
// it. The loop ends: each turn either wins, sees the close done, or waits for another
// closesocket's decision, and a decision that hands the close back lets one of the
// waiters win the next turn.
func (e *entry) winClose() bool {
	for {
		e.closeMu.Lock()
		switch e.closeState {
		case closeOpen:
			e.closeState = closeDeciding
			e.closeMu.Unlock()
			return true
		case closeDone:
			e.closeMu.Unlock()
			return false
		}
		if e.closeWait == nil {
			e.closeWait = make(chan struct{})
		}
		ch := e.closeWait
		e.closeMu.Unlock()
		<-ch
	}
}

// decideClose ends the decision winClose gave: closeOpen (handed back) or closeDone
// (out of the table). It wakes the closesockets waiting for it.
func (e *entry) decideClose(st uint8) {
	e.closeMu.Lock()
	if e.closeState != closeDeciding {
		e.closeMu.Unlock()
		panic("winsock: close decided by a closesocket that did not win it")
	}
	e.closeState = st
	ch := e.closeWait
	e.closeWait = nil
	e.closeMu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// answer is the provider's answer to a call made through e, as the caller sees it. A
// call that overlaps the closesocket of its SOCKET (two goroutines using one SOCKET
// across its close, the application's misuse) passed the SOCKET's check before the
// close and may then find the provider's socket closed under it, with whatever that
// provider answers for a closed socket. Once the close has taken the SOCKET out of the
// table, such a call linearizes after the close, so a failure is WSAENOTSOCK, as for a
// call made after it. Two answers keep their meaning: WSAEINTR (a blocking call the
// close ended) and WSA_IO_PENDING (an overlapped call whose outcome comes through its
// notification). A success is kept: the call took effect before the close.
func (e *entry) answer(code WSAError) WSAError {
	if code == 0 || code == irp.WSAEINTR || code == irp.WSAIOPending || code == irp.WSAENOTSOCK {
		return code
	}
	e.closeMu.Lock()
	done := e.closeState == closeDone
	e.closeMu.Unlock()
	if done {
		return irp.WSAENOTSOCK
	}
	return code
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
