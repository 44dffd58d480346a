//go:build unix || windows

package wsk

import (
	"sync"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// The per-call records of the hot paths (WskSend, WskReceive) and the lists a call or a
// readiness pass collects are recycled: a busy connection makes them at every request,
// and each would otherwise be garbage (the goal: no allocation per request in the
// steady state).
//
// When an op may be reused. An op is recycled only when nothing can reach it any more:
// its IRP completed and its completion returned (completeOne), it came from newIOOp
// (pooled), and no cancel routine can still run on it. The last point is the subtle one:
// the IRP holds o.cancelFn while o is pending, and a Cancel that took it out of the IRP
// calls it later, on another goroutine, even after o was finished. finishLocked takes
// the routine back; if it finds it already gone (SetCancelRoutine(nil) == nil after
// pendLocked set it), a Cancel owns a call to o.cancel, so o is never reused
// (op.noReuse): it is left to the garbage collector.

// opPool's records keep their cancelFn (o.cancel, made by the first pendLocked) across
// uses: one method value per record, not per pending IRP.
var opPool = sync.Pool{New: func() any { return new(op) }}

// newIOOp returns a recycled op for a WskSend, a WskReceive or a graceful WskDisconnect.
func newIOOp(i *irp.IRP, kind opKind, buf *dispatch.Buf, flags dispatch.Flags) *op {
	o := opPool.Get().(*op)
	o.i, o.kind, o.buf, o.flags = i, kind, *buf, flags
	o.pooled = true
	return o
}

// recycle gives o back once its completion has returned (see above).
func (o *op) recycle() {
	if !o.pooled || o.noReuse {
		return
	}
	*o = op{cancelFn: o.cancelFn}
	opPool.Put(o)
}

// outPool recycles the lists of finished ops a call collects under mu.
var outPool = sync.Pool{New: func() any { return new([]*op) }}

func getOut() *[]*op { return outPool.Get().(*[]*op) }

// putOut clears the list (the ops may be recycled) and gives it back.
func putOut(p *[]*op, out []*op) {
	if cap(out) > 64 {
		return // a large drain: let it go rather than pin it
	}
	clear(out)
	*p = out[:0]
	outPool.Put(p)
}

// afterPool recycles the lists of callback calls a readiness pass collects.
var afterPool = sync.Pool{New: func() any { return new([]func()) }}

func getAfter() *[]func() { return afterPool.Get().(*[]func()) }

func putAfter(p *[]func()) {
	if cap(*p) > 64 {
		return
	}
	clear(*p)
	*p = (*p)[:0]
	afterPool.Put(p)
}
