package netconn

import (
	"sync"
	"time"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// side is one direction of a connection (its reads, or its writes): the lock that
// serialises the calls of that direction, the IRP and WSK_BUF they reuse (no allocation
// per call), the deadline and the timer that enforces it.
//
// A deadline is enforced by cancelling the pending IRP: the timer (time.AfterFunc,
// created at the first deadline and Reset afterwards: no goroutine waits per deadline)
// or SetDeadline with a time already past calls IoCancelIrp on it. The provider then
// completes it with STATUS_CANCELLED (a receive that already holds data completes with
// the data, and a send of which part is in the kernel with that count: nothing is lost
// or torn), and the call reports os.ErrDeadlineExceeded. The connection stays usable.
//
// State (mu):
//
//	pending  the IRP is submitted and its result not yet taken: only then may it be
//	         cancelled, and the owner takes mu to clear it before it reuses the IRP, so a
//	         late timer never cancels the next call's request
//	expired  the pending IRP was cancelled for the deadline (the call reports a timeout)
//	closed   Close ran: no new call, and the pending IRP was cancelled
type side struct {
	op   sync.Mutex // held by the call in progress of this direction
	i    *irp.IRP
	buf  dispatch.Buf
	done chan struct{} // capacity 1: the pending IRP completed

	mu       sync.Mutex // guards the fields below; never held while the call waits
	deadline time.Time
	timer    *time.Timer
	pending  bool
	expired  bool
	closed   bool
}

func (d *side) init(stack int) {
	d.i = irp.Allocate(stack)
	d.done = make(chan struct{}, 1)
}

// sideDone is the completion routine of a side's IRP: it wakes the caller when the
// request pended (a request completed at once is seen by the caller itself). The IRP
// stays the side's (MoreProcessingRequired).
func sideDone(_ *irp.Device, i *irp.IRP, ctx any) irp.Status {
	if i.PendingReturned() {
		ctx.(*side).done <- struct{}{}
	}
	return irp.MoreProcessingRequired
}

// prepare readies the IRP for the next request. Call it with op held, before begin (a
// cancel between begin and the submission must survive until the provider sees it).
func (d *side) prepare() *irp.IRP {
	d.i.Reuse(irp.Success)
	d.i.SetCompletionRoutine(sideDone, d, irp.InvokeAlways)
	return d.i
}

// begin marks the prepared IRP pending; closed or timedOut say why not. A deadline
// already past fails at once.
func (d *side) begin() (closed, timedOut bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed:
		return true, false
	case !d.deadline.IsZero() && !time.Now().Before(d.deadline):
		return false, true
	}
	d.pending, d.expired = true, false
	return false, false
}

// wait waits for the request submitted with status st and returns its result.
func (d *side) wait(st irp.Status) (io irp.IoStatusBlock, timedOut, closed bool) {
	if st == irp.Pending {
		<-d.done
	}
	d.mu.Lock()
	d.pending = false
	timedOut, closed = d.expired, d.closed
	d.mu.Unlock()
	return d.i.IoStatus, timedOut, closed
}

// cancelLocked cancels the pending IRP, once.
func (d *side) cancelLocked() {
	if d.pending && !d.expired {
		d.expired = true
		d.i.Cancel() // the provider's cancel routine may complete it here (sideDone)
	}
}

// setDeadline moves the deadline; it applies to the pending request too. Safe for
// concurrent use with the calls of the side.
func (d *side) setDeadline(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.deadline = t
	if t.IsZero() {
		if d.timer != nil {
			d.timer.Stop()
		}
		return
	}
	if dur := time.Until(t); dur > 0 {
		if d.timer == nil {
			d.timer = time.AfterFunc(dur, d.fire)
		} else {
			d.timer.Reset(dur)
		}
		return
	}
	if d.timer != nil {
		d.timer.Stop()
	}
	if !d.closed {
		d.cancelLocked()
	}
}

// fire is the deadline timer: a Reset may race with it, so it checks the deadline again.
func (d *side) fire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.closed && !d.deadline.IsZero() && !time.Now().Before(d.deadline) {
		d.cancelLocked()
	}
}

// close refuses new calls and cancels the pending one. It reports whether it was the
// first close.
func (d *side) close() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	if d.pending {
		d.i.Cancel()
	}
	d.closed = true
	if d.timer != nil {
		d.timer.Stop()
	}
	return true
}

// free gives the IRP back; call it once nothing can use the side (its calls drained,
// its socket's close IRP completed).
func (d *side) free() {
	d.i.Free()
}
