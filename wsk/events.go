//go:build unix || windows

package wsk

import (
	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// eventGate tracks which event callbacks of one socket are running, so that disabling a
// running callback can wait for it (SPEC.md §2.7, invariant 35). It lives in the socket and is
// guarded by socket.mu.
//
//	field            meaning
//	running          the events whose callback has been started and has not returned (one
//	                 call per event at most: deliveries are serial per socket, invariant 32)
//	cold.waiters     disable requests (with an IRP) waiting for a running callback to
//	                 return: in the socket's cold record (socket_cold.go), made by the first
//	                 disable that has to wait
//
// A bit of running is set under mu before the callback is started (through
// invokeCallback, with no lock) and cleared under mu after it returned (or was refused
// because close began). The IRPs of waiters whose events are no longer running are
// completed with STATUS_SUCCESS after mu is released.
//
// The events enabled by WSK_SET_STATIC_EVENT_CALLBACKS when the socket was created
// (events_static.go) are cold.static: set once before the socket is published and never
// changed, SO_WSK_EVENT_CALLBACK can neither disable nor re-enable them.
type eventGate struct {
	running dispatch.EventMask
}

// disableWaiter is one WSK_EVENT_DISABLE request that returned STATUS_PENDING, in the
// socket's list of them (socketCold.waiters, oldest first).
type disableWaiter struct {
	mask dispatch.EventMask
	i    *irp.IRP
	next *disableWaiter
}

// beginLocked records that the callback of ev is about to run. Running it twice at once
// would break the serial delivery rule (invariant 32): a bug in the caller.
func (g *eventGate) beginLocked(ev dispatch.EventMask) {
	if g.running&ev != 0 {
		panic("wsk: event callback started while it is running (invariant 32)")
	}
	g.running |= ev
}

// endEventLocked records that the callback of ev returned, and moves the disable IRPs
// that no longer wait for anything to *done (the caller completes them after Unlock).
func (s *socket) endEventLocked(ev dispatch.EventMask, done *[]*irp.IRP) {
	g := &s.gate
	if g.running&ev == 0 {
		panic("wsk: event callback ended but was not running (invariant 32)")
	}
	g.running &^= ev
	if s.cold == nil {
		return
	}
	for p := &s.cold.waiters; *p != nil; {
		w := *p
		if g.running&w.mask != 0 {
			p = &w.next
			continue
		}
		*done = append(*done, w.i)
		*p = w.next
	}
}

// completeDisables completes the disable IRPs endEventLocked released (no lock held: the
// completion routines are user code).
func completeDisables(done []*irp.IRP) {
	for _, i := range done {
		i.Complete(irp.Success, 0)
	}
}

// disableLocked is the WSK_EVENT_DISABLE half of SO_WSK_EVENT_CALLBACK for one event:
// the event stops at once (no new call starts), and
//   - with no call in progress: STATUS_SUCCESS (the IRP, if any, is completed by the caller);
//   - with a call in progress and an IRP: the IRP is marked pending and completes once the
//     call returned; the result is STATUS_PENDING;
//   - with a call in progress and no IRP: STATUS_EVENT_PENDING (an NT_SUCCESS value).
//
// The caller has refused static events (they can never be disabled, SPEC.md §2.7) and the
// connection events of a listener (they only say what accepted sockets inherit).
func (s *socket) disableLocked(mask dispatch.EventMask, i *irp.IRP) irp.Status {
	s.events &^= mask
	if s.gate.running&mask == 0 {
		return irp.Success
	}
	if i == nil {
		return irp.EventPending
	}
	i.MarkPending()
	s.observePending(i)
	p := &s.coldLocked().waiters
	for *p != nil {
		p = &(*p).next
	}
	*p = &disableWaiter{mask: mask, i: i}
	return irp.Pending
}

// enabledLocked records newly enabled events and wakes their delivery.
func (s *socket) enabledLocked(mask dispatch.EventMask) {
	s.events |= mask
	s.wakeEventsLocked(mask)
}

// handedOutLocked is told when an accepted socket reaches the application (through
// WskAccept or WskAcceptEvent, listen_accept.go): its static events, held back while nobody
// owned it (it had no callbacks yet), start now.
func (s *socket) handedOutLocked() {
	if s.events != 0 {
		s.wakeEventsLocked(s.events)
	}
}

// connRoleLocked reports whether s delivers connection events: a connection socket, or a
// stream socket that has not committed to listening (its connection events start once
// it is connected; connEvents.readable waits for stConnected).
func (s *socket) connRoleLocked() bool {
	return s.category() == dispatch.ConnectionSocket || (s.category() == dispatch.StreamSocket && !s.state.has(stListening))
}

// wakeEventsLocked makes the delivery of the events in mask look at the socket again:
// data, a FIN, a reset or datagrams may already be waiting, and the engine reports
// readiness by edges, so no new edge would come for them. A connection-role socket gets
// its connEvents (the readiness extension) here, the first time.
func (s *socket) wakeEventsLocked(mask dispatch.EventMask) {
	switch {
	case s.category() == dispatch.DatagramSocket:
		if mask&dispatch.EventReceiveFrom != 0 {
			s.postReadable() // the backlog may hold datagrams that came while it was off
		}
	case s.connRoleLocked():
		if mask&connEventMask == 0 {
			return
		}
		ce, _ := s.ext.(*connEvents)
		if ce == nil {
			if s.ext != nil {
				return // a listener's held connection (listen_inspect.go): handedOutLocked comes later
			}
			ce = newConnEvents()
			s.ext = ce
		}
		if mask&(dispatch.EventReceive|dispatch.EventDisconnect) != 0 {
			s.postReadable()
		}
		if mask&dispatch.EventSendBacklog != 0 {
			if ce.rare != nil {
				ce.rare.lastBacklog = -1 // report the current value once
			}
			s.postWritable()
		}
	}
}

// connEventMask is the events of the connection role.
const connEventMask = dispatch.EventReceive | dispatch.EventDisconnect | dispatch.EventSendBacklog

// postReadable runs s.Readable on the socket's loop soon (wake.go). It is how a delivery
// resumes without a new edge (a receive re-armed the events, a list was released, the
// events were enabled). It may be called with mu held (the wake list's lock comes after
// it). After close began, Readable finds stClosing and an empty receive queue and does
// nothing. No allocation per post: the queue reuses its two buffers once grown.
func (s *socket) postReadable() { s.wakeUp(wakeRead) }

// postWritable is postReadable for s.Writable (only the send backlog event posts it).
func (s *socket) postWritable() { s.wakeUp(wakeWrite) }

// applyStaticEvents enables the registration's static events of s's category (seals the
// registration's static mask: events_static.go). Called by newSocket and adoptSocket
// before the socket is published, so no lock is needed. A connection-role socket gets its
// connEvents now: the delivery then starts by itself once it is connected (or, for an
// accepted socket, once it is handed out and has callbacks).
func (s *socket) applyStaticEvents() {
	mask := staticFor(s.category(), s.reg.static.seal())
	if mask == 0 {
		return
	}
	s.coldLocked().static = mask
	s.events = mask
	s.wakeEventsLocked(mask) // s.efd is nil yet: this creates connEvents and posts nothing
}
