//go:build unix || windows

package wsk

import (
	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/internal/observe"
)

// observerDevice owns the stack location of an Observer's layer.
var observerDevice = &irp.Device{Name: "wsk observer"}

// layered is the table a new socket of this registration gets for the provider table t:
// t itself without an observer, else t under the observer's layer. Every call of
// dispatch.Layer in the package is here.
func (r *Registration) layered(t any) any {
	ob := r.obs
	if ob == nil {
		return t
	}
	ob.mu.Lock()
	defer ob.mu.Unlock()
	l, ok := ob.tables[t]
	if !ok {
		// Once per table and registration: dispatch.Layer's tables are meant to be built
		// at registration, not per socket.
		l = layerTable(t, ob.o)
		ob.tables[t] = l
	}
	return l
}

// layerTable stacks f over the provider table t, whichever of the five it is.
func layerTable(t any, f dispatch.Filter) any {
	switch t := t.(type) {
	case *dispatch.BasicDispatch:
		return dispatch.Layer(t, f, observerDevice)
	case *dispatch.ListenDispatch:
		return dispatch.Layer(t, f, observerDevice)
	case *dispatch.DatagramDispatch:
		return dispatch.Layer(t, f, observerDevice)
	case *dispatch.ConnectionDispatch:
		return dispatch.Layer(t, f, observerDevice)
	case *dispatch.StreamDispatch:
		return dispatch.Layer(t, f, observerDevice)
	}
	panic("wsk: layerTable: not a provider socket table")
}

// observePending tells the module's own observer, if any, that the provider keeps i
// pending. The caller holds s.mu: only the sealed hook runs here (wsk/internal/observe).
func (s *socket) observePending(i *irp.IRP) {
	if ob := s.reg.obs; ob != nil && ob.locked != nil {
		ob.locked.Pending(&s.ws, i, observe.Token{})
	}
}

// observeCancel tells the observer, if any, that a Cancel reached the provider's cancel
// routine for i, which still owns i. No lock is held.
func (s *socket) observeCancel(i *irp.IRP) {
	if ob := s.reg.obs; ob != nil {
		ob.o.Cancel(&s.ws, i)
	}
}

// closeStep tells the observer, if any, that the close protocol reached step, and returns
// the function that ends a span step (never nil).
func (s *socket) closeStep(step CloseStep) (end func()) {
	if ob := s.reg.obs; ob != nil {
		if end = ob.o.CloseStep(&s.ws, step); end != nil && step.Span() {
			return end
		}
	}
	return noStepEnd
}

func noStepEnd() {}
