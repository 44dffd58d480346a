//go:build unix || windows

package wsk

import (
	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// maxIndicated bounds the datagrams handed to one ReceiveFromEvent call.
const maxIndicated = 32

// dgDispatch is the application's datagram callbacks (nil if it gave none).
func (s *socket) dgDispatch() *dispatch.ClientDatagramDispatch {
	cd, _ := s.clientDispatch.(*dispatch.ClientDatagramDispatch)
	return cd
}

// offerEventLocked hands the backlog to the application's ReceiveFromEvent when the event
// is enabled, no ReceiveFrom IRP is queued (a queued IRP wins, invariant 31), no other
// call of the event is running (calls are serial per socket: the eventGate, which also
// lets a disable wait for the call, invariant 35) and the event is not paused after a
// static DATA_NOT_ACCEPTED. The datagrams leave the backlog now and are recorded as lent
// before the call, so a Release racing the return finds them; the call itself runs after
// unlock through invokeCallback, inside a callbacks reference taken here (close waits for
// the whole delivery, the settling included).
//
// The event's answer (SPEC.md §2.7, §2.8):
//   - irp.Pending: the application keeps the list until Release.
//   - irp.DataNotAccepted: the list comes back; its datagrams return to the head of the
//     backlog (a later ReceiveFrom gets them). A dynamically enabled event is disabled
//     until the application enables it again; a static one stays enabled but is not
//     offered again until a new datagram arrives or a ReceiveFrom completes (invariant
//     34; offering the same refusal at once would only spin).
//   - anything else (irp.Success): consumed; the list comes back.
func (s *socket) offerEventLocked(d *dgram, after *[]func()) {
	cd := s.dgDispatch()
	if cd == nil || cd.ReceiveFromEvent == nil || s.events&dispatch.EventReceiveFrom == 0 ||
		s.gate.running&dispatch.EventReceiveFrom != 0 || d.refused || !s.recvQ.empty() ||
		len(d.backlog) == 0 || s.sticky != 0 || s.state&(stDead|stClosing) != 0 {
		return
	}
	if !s.callbacks.Acquire() {
		return // close began
	}
	n := min(len(d.backlog), maxIndicated)
	batch := make([]*dgramBuf, n)
	copy(batch, d.backlog[:n])
	clear(d.backlog[:n])
	d.backlog = d.backlog[n:]
	for k, b := range batch {
		b.ind = dispatch.DatagramIndication{Buffer: dispatch.MakeBuf(b.b[:b.n]), RemoteAddress: b.from}
		if k > 0 {
			batch[k-1].ind.Next = &b.ind
		}
	}
	head := &batch[0].ind
	d.lent[head] = batch
	s.gate.beginLocked(dispatch.EventReceiveFrom)
	fn, ctx := cd.ReceiveFromEvent, s.socketContext
	*after = append(*after, func() {
		defer s.callbacks.Release()
		res := irp.Success
		ran := s.invokeCallback("ReceiveFromEvent", func() { res = fn(ctx, 0, head) })
		s.settleOffer(d, head, ran, res)
	})
}

// settleOffer applies the answer of one ReceiveFromEvent call (see offerEventLocked) and
// ends it in the gate: disables waiting for it complete, and the delivery looks again
// (the backlog may hold more than one call takes, with no new edge to announce it; or
// the socket died meanwhile and the NULL list is still to be told).
func (s *socket) settleOffer(d *dgram, head *dispatch.DatagramIndication, ran bool, res irp.Status) {
	var done []*irp.IRP
	var recycle []*dgramBuf
	s.mu.Lock()
	if !ran || res != irp.Pending {
		// The list is ours again, unless the application released it although it did not
		// return Pending (a misuse: it is gone already), or the socket died (forgotten).
		if got, ok := d.lent[head]; ok {
			delete(d.lent, head)
			recycle = got
			if ran && res == irp.DataNotAccepted && !s.state.has(stDead) {
				if s.staticMaskLocked()&dispatch.EventReceiveFrom != 0 {
					d.refused = true
				} else {
					s.events &^= dispatch.EventReceiveFrom
				}
				d.backlog = append(got, d.backlog...)
				recycle = nil
			}
		} else if ran && res != irp.Pending && !s.state.has(stDead) {
			s.reg.ctr.misuse.Add(1)
			s.reg.log.Error("wsk: WskRelease of a datagram list whose ReceiveFromEvent did not return STATUS_PENDING")
		}
	}
	s.endEventLocked(dispatch.EventReceiveFrom, &done)
	if !s.state.has(stClosing) && (len(d.backlog) > 0 || s.state.has(stDead)) {
		s.postReadable()
	}
	s.mu.Unlock()
	for _, b := range recycle {
		putDgramBuf(b)
	}
	completeDisables(done)
}

// dieLocked marks a datagram socket dead (SPEC.md §3.5 Dead, invariant 37): the transport failed
// in a way that concerns no single datagram (the descriptor is no socket any more).
// Queued requests fail with STATUS_FILE_FORCED_CLOSED, so does every later call until the
// socket is closed; the backlog is dropped and the lent lists forgotten (their Release
// is refused like every other call, and the application may still be reading them, so
// they are left to the garbage collector). The NULL list is told from the loop
// (tellDeadLocked).
func (d *dgram) dieLocked(s *socket, out *[]*op) {
	if s.state.has(stDead) {
		return
	}
	s.failLocked(irp.FileForcedClosed, out)
	s.state |= stDead
	for _, b := range d.backlog {
		putDgramBuf(b)
	}
	clear(d.backlog)
	d.backlog = d.backlog[:0]
	clear(d.lent)
}

// tellDeadLocked calls ReceiveFromEvent with a NULL list, once, on a dead socket whose
// event is enabled; while a call of it runs, the end of that call brings the loop back
// here (settleOffer).
func (d *dgram) tellDeadLocked(s *socket, after *[]func()) {
	cd := s.dgDispatch()
	if d.deadSent || cd == nil || cd.ReceiveFromEvent == nil || s.events&dispatch.EventReceiveFrom == 0 ||
		s.gate.running&dispatch.EventReceiveFrom != 0 || !s.callbacks.Acquire() {
		return
	}
	d.deadSent = true
	s.gate.beginLocked(dispatch.EventReceiveFrom)
	fn, ctx := cd.ReceiveFromEvent, s.socketContext
	*after = append(*after, func() {
		defer s.callbacks.Release()
		s.invokeCallback("ReceiveFromEvent", func() { _ = fn(ctx, 0, nil) })
		var done []*irp.IRP
		s.mu.Lock()
		s.endEventLocked(dispatch.EventReceiveFrom, &done)
		s.mu.Unlock()
		completeDisables(done)
	})
}
