//go:build unix || windows

package wsk

import (
	"encoding/binary"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/internal/sock"
)

// Conditional accept (SO_CONDITIONAL_ACCEPT, SPEC.md §2.7, §2.9), user-space model. Windows asks
// the application before the TCP handshake completes; Linux has no such hook, so the
// provider lets the kernel finish the handshake, takes the connection off the kernel
// queue at once and asks then:
//
//	InspectEvent → Reject: the connection is reset (the peer sees ECONNRESET, not a refusal)
//	             → Accept: it goes to the ready list, served by an Accept IRP or the accept event
//	             → Pend:   it waits in pended until WskInspectComplete(Accept | Reject)
//
// While pended or ready, a watcher (heldWatch) on the connection notices the peer going
// away (reset, or FIN with nothing sent) and calls WskAbortEvent; a later
// WskInspectComplete for that ID finds nothing and establishes nothing.

// conditionalAcceptOption gets or sets SO_CONDITIONAL_ACCEPT (a 4-byte boolean). Setting
// it is allowed only before bind (STATUS_INVALID_DEVICE_STATE after).
func (s *socket) conditionalAcceptOption(set bool, in, out []byte, outReturned *int, i *irp.IRP) irp.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.has(stDead) {
		return ctlDone(i, irp.FileForcedClosed, 0, nil)
	}
	if !set {
		if len(out) < 4 {
			return ctlDone(i, irp.BufferOverflow, 4, outReturned)
		}
		var v uint32
		if s.listenSide().conditional {
			v = 1
		}
		binary.LittleEndian.PutUint32(out, v)
		return ctlDone(i, irp.Success, 4, outReturned)
	}
	if len(in) < 4 {
		return ctlDone(i, irp.InvalidParameter, 0, nil)
	}
	if s.state.has(stBound) {
		return ctlDone(i, irp.InvalidDeviceState, 0, nil)
	}
	s.listenSide().conditional = binary.LittleEndian.Uint32(in) != 0
	return ctlDone(i, irp.Success, 0, outReturned)
}

// inspectNewLocked takes every connection off the kernel queue of a conditional listener
// (on the loop), gives each an InspectID, parks it in pended and gathers its InspectEvent.
func (s *socket) inspectNewLocked(out *[]*op, after *[]func()) {
	l := s.listenSide()
	for {
		c, st := s.kernelAcceptLocked()
		if st == irp.Pending {
			return
		}
		if st == irp.FileForcedClosed {
			s.dieLocked(out, after)
			return
		}
		if st != irp.Success {
			return
		}
		l.serial++
		c.id = dispatch.InspectID{Key: uintptr(c.s.fd), SerialNumber: l.serial}
		if l.pended == nil {
			l.pended = make(map[dispatch.InspectID]*acceptedConn)
		}
		l.pended[c.id] = c
		c.s.mu.Lock()
		c.s.ext = &heldWatch{l: s, id: c.id}
		c.s.mu.Unlock()
		// The peer may have gone already, its edge before the watcher was there.
		c.s.efd.Loop().Post(c.s.Readable)
		*after = append(*after, func() { s.inspect(c) })
	}
}

// inspect asks InspectEvent about c (on the loop, no lock held). With no InspectEvent
// callback the connection is accepted.
//
// One loop pass may gather several inspect calls; the first may accept its connection,
// and serving it may find the listener dead and tell the NULL InspectID at once. A call
// still queued then finds the listener dead: it is not made (nothing follows the NULL
// InspectID, invariant 37) and its connection is reset.
func (s *socket) inspect(c *acceptedConn) {
	l := s.listenSide()
	s.mu.Lock()
	dead := s.state.has(stDead)
	s.mu.Unlock()
	if dead {
		s.resolve(c.id, false, true)
		return
	}
	action := dispatch.InspectAccept
	if l.client != nil && l.client.InspectEvent != nil {
		cb := l.client.InspectEvent
		id := c.id // the application gets a copy: identity is the contents
		action = dispatch.InspectReject
		s.invokeCallback("InspectEvent", func() { action = cb(s.socketContext, c.local, c.remote, &id) })
	}
	if action == dispatch.InspectPend {
		return
	}
	s.resolve(c.id, action == dispatch.InspectAccept, true)
}

// resolve ends the inspection of id: accept moves the connection to the ready list and
// serves it; anything else resets it. STATUS_INVALID_PARAMETER when id is not pended
// (unknown, already completed, or aborted).
//
// Off the loop (WskInspectComplete) the listener's state is checked under the same lock
// that finds id: a listener that died between a separate check and the lookup would
// otherwise answer STATUS_SUCCESS to a call made on a dead socket (invariant 37).
func (s *socket) resolve(id dispatch.InspectID, accept, onLoop bool) irp.Status {
	l := s.listenSide()
	var out []*op
	var after []func()
	s.mu.Lock()
	if !onLoop {
		st := s.checkLocked(stListening)
		if st == irp.Success && !l.conditional {
			st = irp.InvalidDeviceState
		}
		if st != irp.Success {
			s.mu.Unlock()
			return st
		}
	}
	c, ok := l.pended[id]
	if !ok {
		s.mu.Unlock()
		return irp.InvalidParameter
	}
	delete(l.pended, id)
	if !accept || s.state&(stClosing|stDead) != 0 {
		s.mu.Unlock()
		c.s.closeProtocol(nil)
		return irp.Success
	}
	l.ready = append(l.ready, c)
	if onLoop {
		s.serveListenLocked(&out, &after, true)
	} else {
		s.serveListenLocked(&out, nil, false)
		if len(l.ready) > 0 {
			l.kick(s) // the accept event, if on, runs on the loop
		}
	}
	s.mu.Unlock()
	s.complete(out)
	for _, f := range after {
		f()
	}
	return irp.Success
}

// listenInspectComplete is WskInspectComplete: the answer to an InspectEvent that
// returned Pend. action must be InspectAccept or InspectReject and id not nil
// (STATUS_INVALID_PARAMETER); a listener without SO_CONDITIONAL_ACCEPT is
// STATUS_INVALID_DEVICE_STATE; an ID not pended (never, already completed, or aborted) is
// STATUS_INVALID_PARAMETER and establishes nothing. Completes synchronously.
func listenInspectComplete(ws *dispatch.Socket, id *dispatch.InspectID, action dispatch.InspectAction, i *irp.IRP) irp.Status {
	if id == nil || (action != dispatch.InspectAccept && action != dispatch.InspectReject) {
		return failIRP(i, irp.InvalidParameter)
	}
	return failIRP(i, sockOf(ws).resolve(*id, action == dispatch.InspectAccept, false))
}

// heldWatch is the readiness extension of a connection a conditional listener holds
// (pended or ready): it notices the peer going away before the application got it.
type heldWatch struct {
	l  *socket
	id dispatch.InspectID
}

func (w *heldWatch) readable(ns *socket, after *[]func()) {
	var b [1]byte
	n, err := sock.Peek(ns.fd, b[:])
	if sock.IsAgain(err) {
		ns.efd.RearmRead() // a level-triggered engine tells the next arrival (engine doc)
		return
	}
	if err == nil && n > 0 {
		return
	}
	l, id := w.l, w.id
	*after = append(*after, func() { l.postAbortHeld(ns, id) })
}

// postAbortHeld runs abortHeld on the listener's loop (from the loop of ns, the held
// connection, no lock held). With several engine loops the two may differ, and
// WskAbortEvent must not run during the listener's other calls: during the InspectEvent
// for the same ID (the abort follows the inspect call, SPEC.md §2.9), or after the NULL
// InspectID. The listener's loop makes its calls one after another. When the post is
// refused (the loop's queue is full, or the engine is shutting down) it runs here: the
// connection must still be reset.
func (s *socket) postAbortHeld(ns *socket, id dispatch.InspectID) {
	if lp := s.efd.Loop(); lp != ns.efd.Loop() && lp.Post(func() { s.abortHeld(id) }) {
		return
	}
	s.abortHeld(id)
}

func (w *heldWatch) writable(*socket, *[]func()) {}

// abortHeld drops the held connection id whose peer went away and tells the application
// with WskAbortEvent (on the listener's loop: postAbortHeld). Once the listener is dead
// the connection is only reset: the NULL InspectID told the application that every
// inspection of the listener is over (invariant 37), and an abort for one of its IDs
// must not follow it.
func (s *socket) abortHeld(id dispatch.InspectID) {
	l := s.listenSide()
	s.mu.Lock()
	dead := s.state.has(stDead)
	c, ok := l.pended[id]
	if ok {
		delete(l.pended, id)
	} else {
		for k, r := range l.ready {
			if r.id == id {
				c = r
				l.ready = append(l.ready[:k], l.ready[k+1:]...)
				break
			}
		}
	}
	s.mu.Unlock()
	if c == nil {
		return
	}
	c.s.closeProtocol(nil)
	if !dead && l.client != nil && l.client.AbortEvent != nil {
		cb := l.client.AbortEvent
		s.invokeCallback("AbortEvent", func() { _ = cb(s.socketContext, &id) })
	}
}

// clearHeldWatch removes the watcher once the connection is handed out (mu of ns held).
func clearHeldWatchLocked(ns *socket) {
	if _, ok := ns.ext.(*heldWatch); ok {
		ns.ext = nil
	}
}
