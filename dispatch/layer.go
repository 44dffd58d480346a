package dispatch

import (
	"sync"

	"github.com/gowsk/gowsk/irp"
)

// Filter is a layer: it sees every call on a table and may return a completion routine
// that the layer sets on the IRP's next stack location before forwarding the call.
// Call runs on the caller's goroutine, inside the socket's rundown reference; i is nil
// for members without an IRP (Release, ControlSocket without IRP), and then the returned
// routine is ignored.
//
// A routine that lets completion continue (returns irp.ContinueCompletion) must propagate
// pending as §4.4/§4.5 require: if i.PendingReturned() it calls i.MarkPending() before
// returning, so that the layer above sees a consistent PendingReturned. Counter shows how.
type Filter interface {
	Call(m Member, s *Socket, i *irp.IRP) (r irp.CompletionRoutine, ctx any, when irp.Invoke)
}

// layer is one Layer call: the filter and the device naming its stack location.
type layer struct {
	f   Filter
	dev *irp.Device
}

// depths records how many layers each table returned by Layer stacks on a provider
// table, keyed by the table pointer (an `any` holding *XxxDispatch). A provider's own
// table is absent and counts as depth 0. Entries are written once, before the table is
// returned, and only read afterwards; tables built by Layer live as long as the process
// (they are meant to be built once at registration, not per socket).
var depths sync.Map

// layerDepth is the number of layers stacked in table t.
func layerDepth(t any) int {
	if t == nil {
		return 0
	}
	if d, ok := depths.Load(t); ok {
		return d.(int)
	}
	return 0
}

// Layer stacks f over inner (a table of any category) and returns a table of the same
// category. dev names the layer's stack location. Each layer adds one IRP stack location,
// which Socket.StackSize counts. The member closures are built once here, not per socket.
// Layering a nil table or a value of no known table type returns nil (a socket made from
// nil refuses every call).
func Layer(inner any, f Filter, dev *irp.Device) any {
	if f == nil {
		return nil
	}
	l := &layer{f: f, dev: dev}
	var out any
	switch t := inner.(type) {
	case *BasicDispatch:
		if t != nil {
			b := l.basic(t)
			out = &b
		}
	case *ListenDispatch:
		if t != nil {
			out = l.listen(t)
		}
	case *DatagramDispatch:
		if t != nil {
			out = l.datagram(t)
		}
	case *ConnectionDispatch:
		if t != nil {
			out = l.connection(t)
		}
	case *StreamDispatch:
		if t != nil {
			out = l.stream(t)
		}
	}
	if out == nil {
		return nil
	}
	depths.Store(out, layerDepth(inner)+1)
	return out
}

// enter runs the filter for one call and moves i into the layer's stack location. ok is
// false when the IRP could not enter (no location left): it has then been completed with
// that status.
func (l *layer) enter(m Member, s *Socket, i *irp.IRP) (st irp.Status, ok bool) {
	r, ctx, when := l.f.Call(m, s, i)
	if i == nil {
		return irp.Success, true
	}
	if r != nil {
		i.SetCompletionRoutine(r, ctx, when)
	}
	if e := i.Enter(l.dev); e != irp.Success {
		i.Complete(e, 0)
		return e, false
	}
	return irp.Success, true
}
