//go:build linux

package wsk

import (
	"golang.org/x/sys/unix"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// connEvents is the event delivery of one connection socket (§2.7): WskReceiveEvent,
// WskDisconnectEvent and WskSendBacklogEvent. It is the socket's readinessExt, created
// when an event is first enabled, and guarded by socket.mu.
//
// How a receive event is made: on readability, with no queued WskReceive (a queued IRP
// always wins, invariant 31) and the event enabled and not paused, the bytes waiting in
// the kernel are *peeked* (MSG_PEEK) into a pooled indication buffer and the callback is
// called with them. Only once it returned are the bytes it took read for real; the rest
// stay in the kernel for the next WskReceive or event, so nothing is ever lost or
// reordered. While the callback holds peeked bytes (indicating), the receive pump leaves
// the kernel alone: a WskReceive posted meanwhile is queued and served after the callback
// returned, with the bytes the callback did not take.
//
//	field          meaning
//	cur            the indication a receive callback holds (the receive pump waits)
//	paused         the last receive event took part of the data or none: no receive event
//	               until a WskReceive completes (invariant 33)
//	retained       lists the application kept (it returned STATUS_PENDING), until Release
//	retainedBytes  their bytes, bounded by Limits.MaxQueuedBytesPerSocket
//	graceful,      the disconnect event was reported for the peer's FIN / reset
//	abortive
//	lastBacklog    the ideal send backlog last reported (-1: report the current one)
//	sawSendQueue   a send waited for buffer space since the last backlog report
//	deadSent       the dead socket's NULL list was delivered
type connEvents struct {
	cur           *indication
	paused        bool
	retained      map[*dispatch.DataIndication]*indication
	retainedBytes int
	graceful      bool
	abortive      bool
	lastBacklog   int
	sawSendQueue  bool
	deadSent      bool // the NULL list of a dead socket was delivered (invariant 37)
}

func newConnEvents() *connEvents {
	return &connEvents{retained: make(map[*dispatch.DataIndication]*indication), lastBacklog: -1}
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

// indicatingLocked reports whether a receive callback holds peeked bytes: the receive
// pump must not read them away under it.
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

// peek copies up to len(b) waiting bytes without taking them; (0, nil) is the peer's FIN.
func peek(fd int, b []byte) (int, error) {
	for {
		n, _, err := unix.Recvfrom(fd, b, unix.MSG_PEEK|unix.MSG_DONTWAIT)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}

// transportDied reports read errors that do not describe the connection (a reset, an
// abort, a timeout) but a socket that no longer works at all: the socket is then dead
// (§3.5, invariant 37).
func transportDied(err error) bool {
	switch err {
	case unix.EBADF, unix.ENOTSOCK, unix.EFAULT, unix.EINVAL:
		return true
	}
	return false
}

// readable runs on the loop with mu held, after the queued receives took what they could.
func (ce *connEvents) readable(s *socket, after *[]func()) {
	if len(s.sendQ) > 0 {
		ce.sawSendQueue = true
	}
	if s.state.has(stDead) {
		ce.tellDeadLocked(s, after) // once the receive callback is free
		return
	}
	if ce.cur != nil || len(s.recvQ) > 0 || !s.state.has(stConnected) {
		return // a callback holds the bytes, or a queued IRP wins (invariant 31)
	}
	cd := s.connDispatch()
	var out []*op
	if s.sticky == 0 && !s.state.has(stRemoteGraceful) && cd != nil {
		recvOn := s.events&dispatch.EventReceive != 0 && cd.ReceiveEvent != nil
		room := s.reg.limits.MaxQueuedBytesPerSocket - ce.retainedBytes
		switch {
		case recvOn && !ce.paused && room > 0:
			ce.startIndication(s, cd, room, &out, after)
		case recvOn || s.events&dispatch.EventDisconnect != 0 && cd.DisconnectEvent != nil:
			// No delivery now (paused, or the retained lists fill the bound), but a FIN, a
			// reset or a dead transport must still be noticed: the NULL list of a dead
			// socket is due even while the events are paused.
			var one [1]byte
			n, err := peek(s.fd, one[:])
			ce.sawReadResult(s, n, err, &out, after)
		}
	}
	ce.disconnectLocked(s, cd, after)
	if len(out) > 0 {
		*after = append(*after, func() { s.complete(out) })
	}
}

// sawReadResult handles a peek that found no data to indicate: EAGAIN, the peer's FIN, a
// connection error or a dead transport.
func (ce *connEvents) sawReadResult(s *socket, n int, err error, out *[]*op, after *[]func()) {
	switch {
	case err == unix.EAGAIN:
	case err != nil && transportDied(err):
		ce.dieLocked(s, out, after)
	case err != nil:
		s.failLocked(ioStatus(err), out)
	case n == 0:
		s.eofLocked(out)
	}
}

// startIndication peeks the waiting bytes into a pooled buffer and queues the receive
// callback on *after (it runs once mu is released).
func (ce *connEvents) startIndication(s *socket, cd *dispatch.ClientConnectionDispatch, room int,
	out *[]*op, after *[]func()) {
	ind := getIndication()
	b := ind.buf
	if len(b) > room {
		b = b[:room]
	}
	n, err := peek(s.fd, b)
	if err != nil || n == 0 {
		putIndication(ind)
		ce.sawReadResult(s, n, err, out, after)
		return
	}
	// Hold the callbacks rundown from here on: close then waits for this delivery to
	// finish (and for the disable IRPs it releases), even if the callback never starts.
	if !s.callbacks.Acquire() {
		putIndication(ind)
		return
	}
	ind.list = dispatch.DataIndication{Buffer: dispatch.MakeBuf(ind.buf[:n])}
	ind.n = n
	var flags dispatch.Flags
	if n < len(b) {
		// Everything the transport holds: the closest Linux gives to "PUSH seen".
		flags |= dispatch.FlagEntireMessage
	}
	if (ce.retainedBytes+n)*2 > s.reg.limits.MaxQueuedBytesPerSocket {
		flags |= dispatch.FlagReleaseASAP
	}
	ce.cur = ind
	s.gate.beginLocked(dispatch.EventReceive)
	fn, ctx := cd.ReceiveEvent, s.socketContext
	*after = append(*after, func() {
		defer s.callbacks.Release()
		accepted := n
		var st irp.Status
		returned := false
		s.invokeCallback("ReceiveEvent", func() {
			defer func() {
				if !returned { // panicked: invokeCallback aborts the socket next
					ce.endIndication(s, ind, false, 0, 0)
				}
			}()
			st = fn(ctx, flags, &ind.list, n, &accepted)
			returned = true
			ce.endIndication(s, ind, true, st, accepted)
		})
		if !returned {
			// Refused (close began) or panicked: nothing was delivered. A no-op when the
			// panic path already settled it.
			ce.endIndication(s, ind, false, 0, 0)
		}
	})
}

// endIndication settles a receive event: the bytes taken leave the kernel, a partial or
// refused indication pauses the events (invariant 33), a retained list is recorded until
// Release, and the receives queued while the callback ran are served.
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
				ce.retained[&ind.list] = ind
				ce.retainedBytes += ind.n
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
	if take > 0 && !s.state.has(stDead) { // a dead transport has nothing left to take
		s.discardLocked(take, &out)
	}
	s.gate.endLocked(dispatch.EventReceive, &done)
	closing := s.state.has(stClosing)
	if !closing && len(s.recvQ) > 0 && !s.state.has(stDead) {
		s.pumpRecvLocked(&out) // the receives posted while the callback held the bytes
	}
	if !closing && (s.state.has(stDead) || delivered && !ce.paused) {
		// More may be waiting with no new edge to announce it, or the socket died while
		// the callback ran and the NULL list is still to be told.
		s.postReadable()
	}
	s.mu.Unlock()
	if !keep {
		putIndication(ind)
	}
	s.complete(out)
	completeDisables(done)
}

// discardLocked takes n bytes the receive callback accepted out of the kernel. They are
// the very bytes it was shown: nobody else reads while a callback holds them.
func (s *socket) discardLocked(n int, out *[]*op) {
	if s.scratch == nil {
		s.scratch = make([]byte, 16<<10)
	}
	for n > 0 {
		b := s.scratch
		if len(b) > n {
			b = b[:n]
		}
		m, err := readv(s.fd, [][]byte{b})
		if err != nil && transportDied(err) {
			if ce, _ := s.ext.(*connEvents); ce != nil {
				ce.dieLocked(s, out, nil) // the NULL list is told from the loop
				return
			}
		}
		if err != nil || m == 0 {
			// Cannot happen for bytes already queued; fail loudly rather than lose sync.
			if err == nil {
				err = unix.EIO
			}
			s.failLocked(ioStatus(err), out)
			return
		}
		n -= m
	}
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
	fn, ctx := cd.DisconnectEvent, s.socketContext
	*after = append(*after, func() {
		defer s.callbacks.Release()
		defer s.endSimpleEvent(dispatch.EventDisconnect)
		s.invokeCallback("DisconnectEvent", func() { _ = fn(ctx, flags) })
	})
}

// endSimpleEvent ends a callback that returns only STATUS_SUCCESS, then looks again:
// another report may have been held back while it ran.
func (s *socket) endSimpleEvent(ev dispatch.EventMask) {
	var done []*irp.IRP
	s.mu.Lock()
	s.gate.endLocked(ev, &done)
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

// idealBacklog is what SIO_WSK_QUERY_IDEAL_SEND_BACKLOG reports: the send buffer size
// (Linux autotunes it as the connection's window grows, which is when it changes).
func idealBacklog(fd int) (int, error) {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF)
	return v / 2, err
}

// writable runs on the loop with mu held, after the queued sends were pushed. It reports
// the ideal send backlog to WskSendBacklogEvent when the send queue is empty and either
// the value changed since the last report or a send had to wait for buffer space since
// then (the queue drained). The first report after enabling gives the current value.
func (ce *connEvents) writable(s *socket, after *[]func()) {
	cd := s.connDispatch()
	if len(s.sendQ) > 0 {
		ce.sawSendQueue = true
		return
	}
	if cd == nil || cd.SendBacklogEvent == nil || s.events&dispatch.EventSendBacklog == 0 ||
		s.gate.running&dispatch.EventSendBacklog != 0 || s.sticky != 0 ||
		!s.state.has(stConnected) || s.state.has(stDead) {
		return
	}
	v, err := idealBacklog(s.fd)
	if err != nil || (v == ce.lastBacklog && !ce.sawSendQueue) {
		return
	}
	if !s.callbacks.Acquire() {
		return
	}
	ce.lastBacklog, ce.sawSendQueue = v, false
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

// ioFailedLocked ends a connection after a failed read or write (the pumps, io_linux.go):
// an error that says the transport itself is gone (transportDied) makes the socket dead
// (invariant 37; with the receive event on, the loop then tells it with a NULL list), any
// other is the connection's terminal status.
func (s *socket) ioFailedLocked(err error, out *[]*op) {
	if !transportDied(err) {
		s.failLocked(ioStatus(err), out)
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

// dieLocked marks the socket dead (§3.5 Dead, invariant 37): queued requests fail with
// STATUS_FILE_FORCED_CLOSED, so does every later call until the socket is closed, retained
// lists are forgotten (their Release is refused like every other call), and an enabled
// receive event is told with a NULL list (tellDeadLocked).
func (ce *connEvents) dieLocked(s *socket, out *[]*op, after *[]func()) {
	if s.state.has(stDead) {
		return
	}
	s.failLocked(irp.FileForcedClosed, out)
	s.state |= stDead
	clear(ce.retained)
	ce.retainedBytes = 0
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
			s.gate.endLocked(dispatch.EventReceive, &done)
			s.mu.Unlock()
			completeDisables(done)
		}()
		s.invokeCallback("ReceiveEvent", func() {
			var accepted int
			_ = fn(ctx, 0, nil, 0, &accepted)
		})
	})
}
