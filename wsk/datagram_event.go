//go:build linux

package wsk

import (
	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// maxIndicated bounds the datagrams handed to one ReceiveFromEvent call.
const maxIndicated = 32

// offerEventLocked hands the backlog to the application's ReceiveFromEvent when the event
// is enabled, no ReceiveFrom IRP is queued (a queued IRP wins, invariant 31) and no other
// call of the event is running (calls are serial per socket). The datagrams leave the
// backlog now and are recorded as lent before the call, so a Release racing the return
// finds them; the call itself runs after unlock through invokeCallback.
//
// The event's answer (§2.7, §2.8):
//   - irp.Pending: the application keeps the list until Release.
//   - irp.DataNotAccepted: the list comes back; its datagrams return to the head of the
//     backlog (a later ReceiveFrom gets them) and the event is disabled until the
//     application enables it again (invariant 34: callbacks here are always enabled
//     dynamically, through SO_WSK_EVENT_CALLBACK).
//   - anything else (irp.Success): consumed; the list comes back.
//
// A datagram arriving while the event is disabled waits in the backlog and is offered at
// the next readable edge after re-enabling.
func (s *socket) offerEventLocked(d *dgram, after *[]func()) {
	cd, _ := s.clientDispatch.(*dispatch.ClientDatagramDispatch)
	if cd == nil || cd.ReceiveFromEvent == nil || s.events&dispatch.EventReceiveFrom == 0 ||
		d.inEvent || len(s.recvQ) > 0 || len(d.backlog) == 0 || s.sticky != 0 {
		return
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
	d.inEvent = true
	fn := cd.ReceiveFromEvent
	ctx := s.socketContext
	*after = append(*after, func() {
		res := irp.Success
		ran := s.invokeCallback("ReceiveFromEvent", func() { res = fn(ctx, 0, head) })
		s.mu.Lock()
		d.inEvent = false
		if !ran || res != irp.Pending {
			// The list is ours again (unless a misbehaving application released it
			// although it did not return Pending: then it is gone already).
			if got, ok := d.lent[head]; ok {
				delete(d.lent, head)
				if ran && res == irp.DataNotAccepted {
					s.events &^= dispatch.EventReceiveFrom
					d.backlog = append(got, d.backlog...)
					got = nil
				}
				for _, b := range got {
					putDgramBuf(b)
				}
			}
		}
		s.mu.Unlock()
	})
}
