package dispatch

import (
	"github.com/gowsk/gowsk/irp"
)

// Filter is a layer: it sees every call on a table and may return a completion routine
// that the layer sets on the IRP's next stack location before forwarding the call.
// Call runs on the caller's goroutine, inside the socket's rundown reference; i is nil
// for members without an IRP (Release, ControlSocket without IRP), and then the returned
// routine is ignored.
//
// A routine that lets completion continue (returns irp.ContinueCompletion) must propagate
// pending as SPEC.md §4.4 and §4.5 require: if i.PendingReturned() it calls
// i.MarkPending() before returning, so that the layer above sees a consistent
// PendingReturned. [Counter] shows how.
type Filter interface {
	Call(m Member, s *Socket, i *irp.IRP) (r irp.CompletionRoutine, ctx any, when irp.Invoke)
}

// Table is the set of provider socket tables, one per category. [Layer] takes and returns
// the same one, so layering a value that is not a table is a compile error.
type Table interface {
	*BasicDispatch | *ListenDispatch | *DatagramDispatch | *ConnectionDispatch | *StreamDispatch
}

// layer is one Layer call: the filter and the device naming its stack location.
type layer struct {
	f   Filter
	dev *irp.Device
}

// Layer stacks f over inner and returns a table of the same category whose members run f,
// then forward to inner's members. dev names the layer's stack location. Each layer adds
// one IRP stack location, which [Socket.StackSize] counts; the depth travels in the table
// itself, so a copy of a layered table keeps it and nothing outside the table records it.
// The member closures are built once here, not per socket: build layered tables once, at
// registration. A nil inner or a nil f returns nil (a socket made from nil refuses every
// call).
func Layer[T Table](inner T, f Filter, dev *irp.Device) T {
	if f == nil || inner == nil {
		return nil
	}
	l := &layer{f: f, dev: dev}
	var out any
	switch t := any(inner).(type) {
	case *BasicDispatch:
		b := l.basicTable(t)
		out = &b
	case *ListenDispatch:
		out = l.listenTable(t)
	case *DatagramDispatch:
		out = l.datagramTable(t)
	case *ConnectionDispatch:
		out = l.connectionTable(t)
	case *StreamDispatch:
		out = l.streamTable(t)
	}
	return out.(T)
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
