//go:build unix || windows

package wsk

import (
	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/internal/sock"
)

// connEvents is the event delivery of one connection socket (SPEC.md §2.7): WskReceiveEvent,
// WskDisconnectEvent and WskSendBacklogEvent. It is the socket's readinessExt, created
// when an event is first enabled, and guarded by socket.mu.
//
// How a receive event is made: on readability, with no queued WskReceive (a queued IRP
// always wins, invariant 31) and the event enabled and not paused, the bytes waiting in
// the kernel are read (one read(2), no peek) into a pooled indication buffer and the
// callback is called with them. The bytes it does not take (a partial BytesAccepted,
// STATUS_DATA_NOT_ACCEPTED, a callback that never ran) stay in that buffer as the
// socket's *held* bytes: at most one indication, never more than the room the retained
// lists left (Limits.MaxQueuedBytesPerSocket). Held bytes come before anything still in
// the kernel: the next WskReceive takes them first (receive pump, conn_io.go), the next
// event indicates them again, and the kernel is not read (nor its FIN or reset noticed:
// EOF only after the held bytes) until they are all taken. So nothing is lost or
// reordered. While the callback holds the bytes (indicating), the receive pump leaves
// them alone: a WskReceive posted meanwhile is queued and served after the callback
// returned, with the bytes the callback did not take. Held bytes are unread input: a
// close that finds them resets the connection, as it does for unread kernel input.
//
//	field               meaning
//	cur                 the indication a receive callback holds (the receive pump waits)
//	held                bytes read from the kernel that nobody took yet (buf[off:off+n])
//	paused              the last receive event took part of the data or none: no receive
//	                    event until a WskReceive completes (invariant 33)
//	rare.retained       lists the application kept (it returned STATUS_PENDING), until
//	                    Release (most connections never retain a list)
//	rare.retainedBytes  their bytes, bounded by Limits.MaxQueuedBytesPerSocket
//	graceful,           the disconnect event was reported for the peer's FIN / reset
//	abortive
//	rare.lastBacklog    the ideal send backlog last reported (-1: report the current one)
//	sawSendQueue        a send waited for buffer space since the last backlog report
//	deadSent            the dead socket's NULL list was delivered
//
// rare (connEventsRare) is made by the first retained list or backlog report: a
// connection that does neither keeps 32 bytes of event state (package doc, # Memory per
// connection).
type connEvents struct {
	cur          *indication
	held         *indication
	rare         *connEventsRare
	paused       bool
	graceful     bool
	abortive     bool
	sawSendQueue bool
	deadSent     bool // the NULL list of a dead socket was delivered (invariant 37)
}

// connEventsRare is the part of connEvents that only retained lists and the send backlog
// event use (see connEvents). Guarded by socket.mu.
type connEventsRare struct {
	retained      map[*dispatch.DataIndication]*indication // made by the first retained list
	retainedBytes int
	lastBacklog   int
}

func newConnEvents() *connEvents { return &connEvents{} }

// rareLocked returns ce.rare, making it the first time.
func (ce *connEvents) rareLocked() *connEventsRare {
	if ce.rare == nil {
		ce.rare = &connEventsRare{lastBacklog: -1}
	}
	return ce.rare
}

// retainedBytesLocked is the bytes of the lists the application retains.
func (ce *connEvents) retainedBytesLocked() int {
	if ce.rare == nil {
		return 0
	}
	return ce.rare.retainedBytes
}

// retainedLocked is the indication of a retained list, or nil.
func (ce *connEvents) retainedLocked(list *dispatch.DataIndication) *indication {
	if ce.rare == nil {
		return nil
	}
	return ce.rare.retained[list]
}

// lastBacklogLocked is the ideal send backlog last reported, -1 if none is to be
// compared with.
func (ce *connEvents) lastBacklogLocked() int {
	if ce.rare == nil {
		return -1
	}
	return ce.rare.lastBacklog
}

// connDispatch is the application's connection callbacks (nil if it gave none): the
// table of a connection socket, or the Connect half of a stream socket's table.
func (s *socket) connDispatch() *dispatch.ClientConnectionDispatch {
	switch cd := s.clientDispatch.(type) {
	case *dispatch.ClientConnectionDispatch:
		return cd
	case *dispatch.ClientStreamDispatch:
		if cd != nil {
			return cd.Connect
		}
	}
	return nil
}

// indicatingLocked reports whether a receive callback holds indicated bytes: the receive
// pump must not read past them under it.
func (s *socket) indicatingLocked() bool {
	ce, _ := s.ext.(*connEvents)
	return ce != nil && ce.cur != nil
}

// receiveCompletedLocked is told of every WskReceive that completed with success: it ends
// a pause (invariant 33) and wakes the delivery, which has no new edge to wait for when
// the bytes are already in the kernel.
func (s *socket) receiveCompletedLocked() {
	ce, _ := s.ext.(*connEvents)
	if ce != nil && ce.paused {
		ce.paused = false
		s.postReadable()
	}
}

// takeHeldLocked serves the receive o, at the head of the queue, from the held bytes:
// a DRAIN discards them, a zero-length receive completes (data is there), any other
// copies what fits (and, with room left, reads on in the kernel: pumpRecvLocked). Once
// the held bytes are all taken the delivery looks at the kernel again (posted
// Readable): more data, the peer's FIN or a reset may wait behind them, with no new
// edge to say so.
func (ce *connEvents) takeHeldLocked(s *socket, o *op, out *[]*op) {
	h := ce.held
	switch {
	case o.flags&dispatch.FlagDrain != 0:
		h.n = 0 // discarded; the DRAIN goes on in the kernel
	case o.buf.Length == 0:
		s.finishLocked(o, irp.Success, 0, out)
		return
	default:
		c := o.buf.CopyFrom(o.n, h.buf[h.off:h.off+h.n])
		h.off += c
		h.n -= c
		o.n += c
		// Full: done. Room left: the pump goes on in the kernel, as one read would have
		// taken everything waiting; a receive without WAITALL then completes with what
		// it has at EAGAIN (pumpRecvLocked).
		if o.n == o.buf.Length {
			s.finishLocked(o, irp.Success, o.n, out)
		}
	}
	if h.n == 0 {
		ce.held = nil
		putIndication(h)
		s.postReadable()
	}
}

// dropHeldLocked gives the held buffer back at close (step 5: no callback runs any
// more, so none holds it) and returns how many bytes it held.
func (s *socket) dropHeldLocked() int {
	ce, _ := s.ext.(*connEvents)
	if ce == nil || ce.held == nil {
		return 0
	}
	n := ce.held.n
	putIndication(ce.held)
	ce.held = nil
	return n
}

// heldBytesLocked is how many bytes are held (SIO_WSK_QUERY_RECEIVE_BACKLOG adds them
// to the kernel's count).
func (s *socket) heldBytesLocked() int {
	if ce, _ := s.ext.(*connEvents); ce != nil && ce.held != nil {
		return ce.held.n
	}
	return 0
}

// readable runs on the loop with mu held, after the queued receives took what they could.
func (ce *connEvents) readable(s *socket, after *[]func()) {
	if !s.sendQ.empty() {
		ce.sawSendQueue = true
	}
	if s.state.has(stDead) {
		ce.tellDeadLocked(s, after) // once the receive callback is free
		return
	}
	if ce.cur != nil || !s.recvQ.empty() || !s.state.has(stConnected) {
		return // a callback holds the bytes, or a queued IRP wins (invariant 31)
	}
	cd := s.connDispatch()
	var out []*op
	if s.sticky == 0 && !s.state.has(stRemoteGraceful) && cd != nil {
		recvOn := s.events&dispatch.EventReceive != 0 && cd.ReceiveEvent != nil
		room := s.reg.limits.MaxQueuedBytesPerSocket - ce.retainedBytesLocked()
		switch {
		case recvOn && !ce.paused && room > 0 && (ce.held == nil || ce.held.n <= room):
			ce.startIndication(s, cd, room, &out, after)
		case ce.held != nil && (recvOn || s.events&dispatch.EventDisconnect != 0 && cd.DisconnectEvent != nil):
			// Held bytes come first: a FIN or a reset behind them is noticed once they
			// are taken (the take posts Readable). A dead transport must still be told,
			// even while paused: ask the descriptor without touching its queue.
			if err := sock.Alive(s.fd); err != nil && sock.TransportDied(err) {
				ce.dieLocked(s, &out, after)
			}
		case (recvOn || s.events&dispatch.EventDisconnect != 0 && cd.DisconnectEvent != nil) && !s.rdDrained:
			// No delivery now (paused, or the retained lists fill the bound), but a FIN, a
			// reset or a dead transport must still be noticed: the NULL list of a dead
			// socket is due even while the events are paused.
			var one [1]byte
			n, err := sock.Peek(s.fd, one[:])
			ce.sawReadResult(s, n, err, &out, after)
		}
	}
	ce.disconnectLocked(s, cd, after)
	if len(out) > 0 {
		done := out // a copy: capturing out itself (address taken above) would move it to the heap
		*after = append(*after, func() { s.complete(done) })
	}
}

// sawReadResult handles a read or peek that found no data to indicate: EAGAIN, the
// peer's FIN, a connection error or a dead transport.
func (ce *connEvents) sawReadResult(s *socket, n int, err error, out *[]*op, after *[]func()) {
	switch {
	case sock.IsAgain(err):
		s.readShortLocked(0, 1)
	case err != nil && sock.TransportDied(err):
		ce.dieLocked(s, out, after)
	case err != nil:
		s.failLocked(sock.Status(err), out)
	case n == 0:
		s.eofLocked(out)
	}
}

// startIndication indicates the held bytes, or reads the waiting ones into a pooled
// buffer, and queues the receive callback on *after (it runs once mu is released). The
// caller checked that the held bytes fit the room the retained lists leave.
func (ce *connEvents) startIndication(s *socket, cd *dispatch.ClientConnectionDispatch, room int,
	out *[]*op, after *[]func()) {
	ind := ce.held
	if ind != nil {
		ce.held = nil
	} else {
		if s.rdDrained {
			return // the kernel's queue is empty: the next arrival brings an edge
		}
		ind = getIndication()
		b := ind.buf
		if len(b) > room {
			b = b[:room]
		}
		n, err := sock.Read(s.fd, b)
		if err != nil || n == 0 {
			putIndication(ind)
			ce.sawReadResult(s, n, err, out, after)
			return
		}
		s.readShortLocked(n, len(b))
		// A short read took everything the transport held: the closest Linux gives to
		// "PUSH seen" (WSK_FLAG_ENTIRE_MESSAGE).
		ind.off, ind.n, ind.entire = 0, n, n < len(b)
	}
	// Hold the callbacks rundown from here on: close then waits for this delivery to
	// finish (and for the disable IRPs it releases), even if the callback never starts.
	if !s.callbacks.Acquire() {
		ce.held = ind // read but not delivered: still unread input
		return
	}
	n := ind.n
	ind.list = dispatch.DataIndication{Buffer: dispatch.MakeBuf(ind.buf[ind.off : ind.off+n])}
	var flags dispatch.Flags
	if ind.entire {
		flags |= dispatch.FlagEntireMessage
	}
	if (ce.retainedBytesLocked()+n)*2 > s.reg.limits.MaxQueuedBytesPerSocket {
		flags |= dispatch.FlagReleaseASAP
	}
	ce.cur = ind
	s.gate.beginLocked(dispatch.EventReceive)
	ind.s, ind.ce = s, ce
	ind.fn, ind.ctx, ind.flags = cd.ReceiveEvent, s.socketContext, flags
	if ind.deliverFn == nil {
		ind.deliverFn = ind.deliver // made once per pooled indication, not per event
	}
	*after = append(*after, ind.deliverFn)
}

// deliver calls WskReceiveEvent with ind (queued by startIndication, run once mu is
// released) and settles it. It is invokeCallback written out for this one callback, so
// that an event allocates nothing: close began (no new callback) or a panic means
// nothing was delivered; a panic is counted, logged and aborts the socket. ind must not
// be touched once endIndication returned (it may be back in the pool).
func (ind *indication) deliver() {
	s, ce := ind.s, ind.ce
	defer s.callbacks.Release() // the hold startIndication took
	if !s.callbacks.Acquire() {
		ce.endIndication(s, ind, false, 0, 0) // refused: close began, nothing delivered
		return
	}
	defer s.callbacks.Release()
	defer func() {
		if v := recover(); v != nil {
			s.reg.ctr.callbackPanics.Add(1)
			s.reg.log.Error("wsk: event callback panicked; socket aborted", "callback", "ReceiveEvent", "panic", v)
			s.abort(irp.ConnectionAborted)
		}
	}()
	returned := false
	defer func() {
		if !returned {
			// Panicked: nothing was delivered. Settled first, then the socket is aborted
			// (the deferred recover above runs after this one).
			ce.endIndication(s, ind, false, 0, 0)
		}
	}()
	n := ind.n
	ind.accepted = n
	st := ind.fn(ind.ctx, ind.flags, &ind.list, n, &ind.accepted)
	accepted := ind.accepted
	returned = true
	ce.endIndication(s, ind, true, st, accepted)
}

// endIndication settles a receive event: the bytes not taken stay held (before anything
// still in the kernel), a partial or refused indication pauses the events (invariant
// 33), a retained list is recorded until Release, and the receives queued while the
// callback ran are served (held bytes first).
func (ce *connEvents) endIndication(s *socket, ind *indication, delivered bool, st irp.Status, accepted int) {
	var out []*op
	var done []*irp.IRP
	keep := false
	s.mu.Lock()
	if ce.cur != ind {
		s.mu.Unlock()
		return // already settled (by the panic path)
	}
	ce.cur = nil
	take := 0
	if delivered {
		switch st {
		case irp.Success:
			if accepted < 0 || accepted > ind.n {
				s.reg.ctr.misuse.Add(1)
				s.reg.log.Error("wsk: ReceiveEvent set BytesAccepted outside [0, BytesIndicated]; taken as all",
					"accepted", accepted, "indicated", ind.n)
				accepted = ind.n
			}
			take = accepted
			ce.paused = accepted < ind.n
		case irp.Pending:
			take = ind.n
			if !ind.early { // else: already released while the callback ran
				keep = true
				r := ce.rareLocked()
				if r.retained == nil {
					r.retained = make(map[*dispatch.DataIndication]*indication)
				}
				r.retained[&ind.list] = ind
				r.retainedBytes += ind.n
			}
		case irp.DataNotAccepted:
			ce.paused = true
		default:
			s.reg.ctr.misuse.Add(1)
			s.reg.log.Error("wsk: ReceiveEvent returned an undefined status; taken as DATA_NOT_ACCEPTED", "status", st)
			ce.paused = true
		}
	}
	if ind.early && (!delivered || st != irp.Pending) {
		s.reg.ctr.misuse.Add(1)
		s.reg.log.Error("wsk: WskRelease of a list whose ReceiveEvent did not return STATUS_PENDING")
	}
	hold := false
	if !keep && take < ind.n && !s.state.has(stDead) { // a dead transport forgets its bytes
		ind.off += take
		ind.n -= take
		ind.list = dispatch.DataIndication{}
		ind.early = false
		if ind.n <= heldCompactMax {
			// A few bytes must not pin a 64 KiB pooled buffer while the events are
			// paused (a server with many paused connections): keep a copy instead.
			ce.held = compactIndication(ind)
		} else {
			ce.held = ind
			hold = true
		}
	}
	s.endEventLocked(dispatch.EventReceive, &done)
	closing := s.state.has(stClosing)
	if !closing && !s.recvQ.empty() && !s.state.has(stDead) {
		s.pumpRecvLocked(&out) // the receives posted while the callback held the bytes
	}
	if !closing && (s.state.has(stDead) || delivered && !ce.paused && (!s.rdDrained || ce.held != nil)) {
		// More may be waiting with no new edge to announce it (the read filled the
		// buffer, or the edge may carry a FIN behind the data), or the socket died while
		// the callback ran and the NULL list is still to be told. A short read on a plain
		// data edge emptied the queue: the next arrival brings its own edge.
		s.postReadable()
	}
	s.mu.Unlock()
	if !keep && !hold {
		putIndication(ind)
	}
	s.complete(out)
	completeDisables(done)
}

// disconnectLocked reports the peer's FIN (graceful, once) or reset (WSK_FLAG_ABORTIVE,
// once) to WskDisconnectEvent. A reset the application caused (abortive WskDisconnect, a
// panicking callback) is not reported: the sticky status is then CONNECTION_ABORTED.
func (ce *connEvents) disconnectLocked(s *socket, cd *dispatch.ClientConnectionDispatch, after *[]func()) {
	if cd == nil || cd.DisconnectEvent == nil || s.events&dispatch.EventDisconnect == 0 ||
		s.gate.running&dispatch.EventDisconnect != 0 || ce.abortive || s.state.has(stDead) {
		return
	}
	var flags dispatch.Flags
	switch {
	case s.sticky == irp.ConnectionReset:
		ce.abortive = true
		flags = dispatch.FlagAbortive
	case s.state.has(stRemoteGraceful) && !ce.graceful:
		ce.graceful = true
	default:
		return
	}
	if !s.callbacks.Acquire() {
		return
	}
	s.gate.beginLocked(dispatch.EventDisconnect)
	*after = append(*after, newDisconnectCall(s, cd.DisconnectEvent, s.socketContext, flags).runFn)
}

// endSimpleEvent ends a callback that returns only STATUS_SUCCESS, then looks again:
// another report may have been held back while it ran.
func (s *socket) endSimpleEvent(ev dispatch.EventMask) {
	var done []*irp.IRP
	s.mu.Lock()
	s.endEventLocked(ev, &done)
	if !s.state.has(stClosing) {
		if ev == dispatch.EventSendBacklog {
			s.postWritable()
		} else {
			s.postReadable()
		}
	}
	s.mu.Unlock()
	completeDisables(done)
}

// writable runs on the loop with mu held, after the queued sends were pushed. It reports
// the ideal send backlog to WskSendBacklogEvent when the send queue is empty and either
// the value changed since the last report or a send had to wait for buffer space since
// then (the queue drained). The first report after enabling gives the current value.
func (ce *connEvents) writable(s *socket, after *[]func()) {
	cd := s.connDispatch()
	if !s.sendQ.empty() {
		ce.sawSendQueue = true
		return
	}
	if cd == nil || cd.SendBacklogEvent == nil || s.events&dispatch.EventSendBacklog == 0 ||
		s.gate.running&dispatch.EventSendBacklog != 0 || s.sticky != 0 ||
		!s.state.has(stConnected) || s.state.has(stDead) {
		return
	}
	v, err := sock.IdealSendBacklog(s.fd)
	if err != nil || (v == ce.lastBacklogLocked() && !ce.sawSendQueue) {
		return
	}
	if !s.callbacks.Acquire() {
		return
	}
	ce.rareLocked().lastBacklog, ce.sawSendQueue = v, false
	s.gate.beginLocked(dispatch.EventSendBacklog)
	fn, ctx := cd.SendBacklogEvent, s.socketContext
	*after = append(*after, func() {
		defer s.callbacks.Release()
		defer s.endSimpleEvent(dispatch.EventSendBacklog)
		s.invokeCallback("SendBacklogEvent", func() { _ = fn(ctx, v) })
	})
}

// sendWaitedLocked is told when a WskSend had to wait (it returned STATUS_PENDING): the
// next time the send queue is empty, WskSendBacklogEvent reports the ideal backlog even
// if it did not change. Without this a send that waited for one writable edge only would
// drain unseen (writable looks at the queue after the pump).
func (s *socket) sendWaitedLocked() {
	if ce, _ := s.ext.(*connEvents); ce != nil {
		ce.sawSendQueue = true
	}
}

// ioFailedLocked ends a connection after a failed read or write (the pumps, conn_io.go):
// an error that says the transport itself is gone (sock.TransportDied) makes the socket dead
// (invariant 37; with the receive event on, the loop then tells it with a NULL list), any
// other is the connection's terminal status.
func (s *socket) ioFailedLocked(err error, out *[]*op) {
	if !sock.TransportDied(err) {
		s.failLocked(sock.Status(err), out)
		return
	}
	if ce, _ := s.ext.(*connEvents); ce != nil {
		ce.dieLocked(s, out, nil)
		s.postReadable() // a call path has no callbacks to gather: the loop tells
		return
	}
	s.failLocked(irp.FileForcedClosed, out)
	s.state |= stDead
}

// dieLocked marks the socket dead (SPEC.md §3.5 Dead, invariant 37): queued requests fail with
// STATUS_FILE_FORCED_CLOSED, so does every later call until the socket is closed, retained
// lists are forgotten (their Release is refused like every other call), and an enabled
// receive event is told with a NULL list (tellDeadLocked).
func (ce *connEvents) dieLocked(s *socket, out *[]*op, after *[]func()) {
	if s.state.has(stDead) {
		return
	}
	s.failLocked(irp.FileForcedClosed, out)
	s.state |= stDead
	if ce.rare != nil {
		clear(ce.rare.retained)
		ce.rare.retainedBytes = 0
	}
	if ce.held != nil {
		putIndication(ce.held)
		ce.held = nil
	}
	if after != nil { // else a call path: Readable, posted by the caller, tells it
		ce.tellDeadLocked(s, after)
	}
}

// tellDeadLocked calls WskReceiveEvent with a NULL list, once, on a dead socket whose
// receive event is enabled. While a receive callback runs it waits: the calls are serial
// (invariant 32), and the end of that call posts Readable, which comes back here.
func (ce *connEvents) tellDeadLocked(s *socket, after *[]func()) {
	cd := s.connDispatch()
	if ce.deadSent || cd == nil || cd.ReceiveEvent == nil || s.events&dispatch.EventReceive == 0 ||
		s.gate.running&dispatch.EventReceive != 0 || !s.callbacks.Acquire() {
		return
	}
	ce.deadSent = true
	s.gate.beginLocked(dispatch.EventReceive)
	fn, ctx := cd.ReceiveEvent, s.socketContext
	*after = append(*after, func() {
		defer s.callbacks.Release()
		defer func() {
			var done []*irp.IRP
			s.mu.Lock()
			s.endEventLocked(dispatch.EventReceive, &done)
			s.mu.Unlock()
			completeDisables(done)
		}()
		s.invokeCallback("ReceiveEvent", func() {
			var accepted int
			_ = fn(ctx, 0, nil, 0, &accepted)
		})
	})
}
