//go:build unix || windows

package wsk

import (
	"net/netip"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/internal/sock"
)

// listenTable is the provider table of listening sockets (SPEC.md §2.4 order).
var listenTable = dispatch.ListenDispatch{
	BasicDispatch:   basicTable,
	Bind:            listenBind,
	Accept:          listenAccept,
	InspectComplete: listenInspectComplete,
	GetLocalAddress: connGetLocalAddress,
}

// listener is the listening side of a listen or stream socket (socketCold.lst). It is the
// socket's readinessExt once the socket listens. Every field is guarded by the socket's mu.
//
// Where a connection is between the kernel and the application:
//
//	kernel accept queue  → not yet taken (no Accept IRP, no accept event, not conditional)
//	pended               → conditional accept: taken from the kernel, InspectEvent running or
//	                       returned Pend, waiting for WskInspectComplete
//	ready                → conditional accept: the application said Accept, waiting for an
//	                       Accept IRP or the accept event
//
// Connections in pended and ready are provider sockets never handed out: closing the
// listener closes them abortively (the peer sees RST), as the kernel does with its queue.
type listener struct {
	client      *dispatch.ClientListenDispatch // the listen callbacks; nil when none were given
	conditional bool                           // SO_CONDITIONAL_ACCEPT was set before bind
	ready       []*acceptedConn
	pended      map[dispatch.InspectID]*acceptedConn
	serial      uint32     // the last InspectID.SerialNumber handed out
	told        deadNotice // which NULL events of a dead listener are settled (invariant 37)

	// offer is the connection the accept event is about to be called with (one call at a
	// time: serveListenLocked sets it with EventAccept begun in the gate, acceptOffered
	// takes it); offerFn is s.acceptOffered, made once, so that an accept gathers no
	// closure.
	offer   *acceptedConn
	offerFn func()
}

// deadNotice records, bit by bit, the NULL events a dead listener has settled
// (invariant 37: each is told exactly once, after any running callback returned). A bit
// is set when its event was delivered, or found to have nobody to tell (the event is off
// or has no callback, or close began): it is never told later.
//
//	bit             set when
//	deadToldInspect the NULL InspectID was gathered (conditional listeners with an
//	                InspectEvent), or there was none to give. Set at once on the loop
//	                when the death is seen: inspect calls run on the listener's loop one
//	                after another, so none is running then, and inspect (listen_inspect.go)
//	                makes no call for a connection still queued behind it.
//	deadToldAccept  the NULL AcceptSocket was gathered, or there was none to give. It
//	                waits while an accept call is running or queued (EventAccept in the
//	                event gate, serial delivery): that queued call, finding the listener
//	                dead, resets its connection and tells the NULL socket in its place
//	                (acceptEvent), and a call that was already running kicks the loop when
//	                it ends (endAcceptEvent), whose readable tells it then.
//
// Both bits only go from clear to set, under the socket's mu.
type deadNotice uint8

const (
	deadToldInspect deadNotice = 1 << iota
	deadToldAccept

	deadToldAll = deadToldInspect | deadToldAccept
)

// newListenSocket creates a WSK_FLAG_LISTEN_SOCKET socket: TCP only; the client table,
// if any, must be a *dispatch.ClientListenDispatch.
func (r *Registration) newListenSocket(fam, sotype, proto int, ctx, cd any) (*socket, irp.Status) {
	if sotype != SockStream || (proto != 0 && proto != IPProtoTCP) {
		return nil, irp.InvalidParameter
	}
	var cl *dispatch.ClientListenDispatch
	if cd != nil {
		c, ok := cd.(*dispatch.ClientListenDispatch)
		if !ok {
			return nil, irp.InvalidParameter
		}
		cl = c
	}
	s, st := r.newSocket(dispatch.ListenSocket, fam, sock.SockStream, sock.IPProtoTCP, &listenTable, ctx, cd)
	if st != irp.Success {
		return nil, st
	}
	// Windows lets a listener bind a port whose old connections sit in TIME_WAIT; Unix
	// does only with SO_REUSEADDR (sock.PrepareListener). Without it, a server restarted
	// on a fixed port fails with STATUS_ADDRESS_ALREADY_ASSOCIATED for a minute.
	if err := sock.PrepareListener(s.fd); err != nil {
		s.closeProtocol(nil)
		return nil, sock.Status(err)
	}
	s.mu.Lock() // not published yet, but registered: the loop may look at s.cold
	s.coldLocked().lst = &listener{client: cl}
	s.mu.Unlock()
	return s, irp.Success
}

// listenBind is WskBind on a listen socket: bind, then listen(2) at once (a WSK listen
// socket listens from its bind on). Flags must be 0; binding twice is
// STATUS_INVALID_DEVICE_STATE.
func listenBind(ws *dispatch.Socket, local netip.AddrPort, flags dispatch.Flags, i *irp.IRP) irp.Status {
	if flags != 0 {
		return failIRP(i, irp.InvalidParameter)
	}
	s := sockOf(ws)
	if st := s.bind(local); st != irp.Success {
		return failIRP(i, st)
	}
	return failIRP(i, s.startListen())
}

// startListen runs listen(2) on a bound socket and makes the listener its readiness
// extension. WSK has no backlog parameter (the Windows stack sizes it itself), so the
// provider asks for the largest the OS gives (sock.Listen: SOMAXCONN, which Linux clamps
// to net.core.somaxconn). Connections the application has not accepted yet wait in the
// kernel's queue; closing the listener resets them (the peers see ECONNRESET). A socket
// that connects or connected is STATUS_INVALID_DEVICE_STATE.
func (s *socket) startListen() irp.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.checkLocked(stBound); st != irp.Success {
		return st
	}
	if s.state&(stConnecting|stConnected|stListening) != 0 {
		return irp.InvalidDeviceState
	}
	if err := sock.Listen(s.fd); err != nil {
		return sock.Status(err)
	}
	s.state |= stListening
	s.ext = s.listenSide()
	if s.events != 0 {
		s.listenSide().kick(s) // a stream socket may have enabled the accept event before Listen
	}
	return irp.Success
}

// readable is the listener's readiness (on the loop, mu held, queued IRPs not yet served:
// a listener has no receive queue). Accept IRPs are served first, then the events.
func (l *listener) readable(s *socket, after *[]func()) {
	var out []*op
	if s.state.has(stDead) && l.told != deadToldAll {
		// It died in a call, or a NULL event waited for an accept call: tell it from here.
		s.dieLocked(&out, after)
	}
	s.serveListenLocked(&out, after, true)
	if len(out) > 0 {
		// Completions first: prepend, so they run before any callback gathered here. A
		// copy is captured: capturing out itself would put it on the heap at every call.
		done := out
		*after = append([]func(){func() { s.complete(done) }}, *after...)
	}
}

// writable: a listener never waits to write.
func (l *listener) writable(*socket, *[]func()) {}

// kick makes the loop look at the listener again (an event was just enabled, a
// conditional connection became ready): the engine is edge-triggered, and the kernel
// queue may already hold connections whose edge went by. Called with or without mu.
func (l *listener) kick(s *socket) {
	s.postReadable() // no allocation (wake.go)
}

// acceptEventOn reports whether the accept event is enabled and has a callback.
func (s *socket) acceptEventOnLocked() bool {
	l := s.listenSide()
	return s.events&dispatch.EventAccept != 0 && l.client != nil && l.client.AcceptEvent != nil
}

// serveListenLocked moves connections to their consumers: queued Accept IRPs first
// (invariant 31), then, when onLoop (callbacks may be gathered), the inspect and accept
// events. A call path (Accept, InspectComplete) passes onLoop false and kicks the loop
// instead, so callbacks always run on the engine goroutine.
func (s *socket) serveListenLocked(out *[]*op, after *[]func(), onLoop bool) {
	l := s.listenSide()
	if !s.state.has(stListening) || s.state&(stDead|stClosing) != 0 {
		return
	}
	if onLoop && l.conditional {
		s.inspectNewLocked(out, after)
	}
	for {
		o := s.firstAcceptLocked()
		if o == nil {
			break
		}
		c, st := s.takeConnLocked()
		if st == irp.Pending {
			return
		}
		if st == irp.FileForcedClosed {
			s.dieLocked(out, after)
			return
		}
		if st != irp.Success {
			s.finishLocked(o, st, 0, out)
			continue
		}
		s.deliverToIRPLocked(o, c, out)
	}
	// One accept callback at a time, recorded in the event gate (events.go): a disable
	// then waits for it (invariant 35), and the next connection is only taken once it
	// returned (acceptEvent kicks the loop), with the event's state read again.
	if !onLoop || !s.acceptEventOnLocked() || s.gate.running&dispatch.EventAccept != 0 {
		return
	}
	c, st := s.takeConnLocked()
	if st == irp.FileForcedClosed {
		s.dieLocked(out, after)
		return
	}
	if st != irp.Success {
		return // none queued; or out of resources: that connection was reset, try on the next edge
	}
	if !s.callbacks.Acquire() {
		*after = append(*after, func() { c.s.closeProtocol(nil) }) // close began: reset it
		return
	}
	s.gate.beginLocked(dispatch.EventAccept)
	l.offer = c
	if l.offerFn == nil {
		l.offerFn = s.acceptOffered
	}
	*after = append(*after, l.offerFn)
}

// acceptOffered calls the accept event with the connection serveListenLocked set aside
// (listener.offer), once mu is released.
func (s *socket) acceptOffered() {
	s.mu.Lock()
	c := s.listenSide().offer
	s.listenSide().offer = nil
	s.mu.Unlock()
	if c == nil {
		panic("wsk: accept event gathered with no connection offered (one accept call at a time)")
	}
	s.acceptEvent(c)
}

// firstAcceptLocked returns the oldest queued Accept IRP, or nil.
func (s *socket) firstAcceptLocked() *op {
	for o := s.sendQ.head(); o != nil; o = s.sendQ.next(o) {
		if o.kind == opAccept {
			return o
		}
	}
	return nil
}

// takeConnLocked takes the next connection for a consumer: from the ready list of a
// conditional listener, else from the kernel. irp.Pending means none is there;
// irp.FileForcedClosed means the listener died.
func (s *socket) takeConnLocked() (*acceptedConn, irp.Status) {
	l := s.listenSide()
	if l.conditional {
		if len(l.ready) == 0 {
			return nil, irp.Pending
		}
		c := l.ready[0]
		l.ready[0] = nil
		l.ready = l.ready[1:]
		return c, irp.Success
	}
	return s.kernelAcceptLocked()
}

// dieLocked marks the listener dead (invariant 37: every later call gets
// STATUS_FILE_FORCED_CLOSED) and fails the queued Accept IRPs with it. On the loop (after
// not nil) it also gathers the NULL events still owed (tellDeadLocked); a call path
// (after nil) kicks the loop instead.
func (s *socket) dieLocked(out *[]*op, after *[]func()) {
	s.state |= stDead
	s.failLocked(irp.FileForcedClosed, out)
	if after != nil {
		s.tellDeadLocked(after)
	}
}

// tellDeadLocked gathers the NULL InspectID and the NULL AcceptSocket a dead listener
// still owes (on the loop, mu held), each once (deadNotice). The NULL accept call waits
// while another accept call is running or queued: calls of one event are serial, and
// the one queued tells it in its place (acceptEvent).
func (s *socket) tellDeadLocked(after *[]func()) {
	l := s.listenSide()
	if l.told&deadToldInspect == 0 {
		l.told |= deadToldInspect
		if l.conditional && l.client != nil && l.client.InspectEvent != nil {
			cb := l.client.InspectEvent
			*after = append(*after, func() {
				s.invokeCallback("InspectEvent", func() { _ = cb(s.socketContext, netip.AddrPort{}, netip.AddrPort{}, nil) })
			})
		}
	}
	if l.told&deadToldAccept != 0 || s.gate.running&dispatch.EventAccept != 0 {
		return
	}
	l.told |= deadToldAccept
	if s.acceptEventOnLocked() && s.callbacks.Acquire() {
		s.gate.beginLocked(dispatch.EventAccept) // a disable waits for it (events.go)
		*after = append(*after, func() {
			defer s.callbacks.Release()
			s.callAcceptDead()
			s.endAcceptEvent()
		})
	}
}

// callAcceptDead calls AcceptEvent with a NULL socket: the listener is dead (on the
// loop, no lock held; the caller began EventAccept in the gate). Its answer means
// nothing.
func (s *socket) callAcceptDead() {
	cb := s.listenSide().client.AcceptEvent
	s.invokeCallback("AcceptEvent", func() { _, _, _ = cb(s.socketContext, 0, netip.AddrPort{}, netip.AddrPort{}, nil) })
}

// dropHeld closes, abortively, the connections the listener took from the kernel but
// never handed out (close protocol, after step 5: stClosing keeps new ones out).
func (l *listener) dropHeld(s *socket) {
	s.mu.Lock()
	held := l.ready
	l.ready = nil
	for id, c := range l.pended {
		held = append(held, c)
		delete(l.pended, id)
	}
	s.mu.Unlock()
	for _, c := range held {
		c.s.closeProtocol(nil)
	}
}
