package dispatch

import (
	"sync/atomic"

	"github.com/gowsk/gowsk/irp"
)

// Counter is a Filter that counts calls and completions per Member. The zero value is
// ready; all methods are safe for concurrent use. Use it as Layer(inner, &c, dev).
type Counter struct {
	calls       [NumMembers]atomic.Uint64
	completions [NumMembers]atomic.Uint64
}

// CounterSnapshot is a copy of a Counter's counts, indexed by Member.
type CounterSnapshot struct {
	Calls       [NumMembers]uint64
	Completions [NumMembers]uint64
}

// Call counts the call and, for calls with an IRP, returns a routine that counts the
// completion (every outcome: success, error, cancel).
func (c *Counter) Call(m Member, s *Socket, i *irp.IRP) (irp.CompletionRoutine, any, irp.Invoke) {
	if m >= NumMembers {
		return nil, nil, 0
	}
	c.calls[m].Add(1)
	if i == nil {
		return nil, nil, 0
	}
	// The context is the member's own counter: a pointer, so no allocation per call
	// (a method value c.completed would allocate a closure each time).
	return countCompletion, &c.completions[m], irp.InvokeAlways
}

// countCompletion counts one completion and lets the walk go on, propagating pending
// (SPEC.md §4.4): a routine that returns ContinueCompletion must re-mark its location pending
// when the lower driver pended, or the caller above would see PendingReturned lost.
func countCompletion(_ *irp.Device, i *irp.IRP, ctx any) irp.Status {
	if n, ok := ctx.(*atomic.Uint64); ok {
		n.Add(1)
	}
	if i.PendingReturned() {
		i.MarkPending()
	}
	return irp.ContinueCompletion
}

// Snapshot copies the counts. Each count is read atomically; the set is not one instant.
func (c *Counter) Snapshot() CounterSnapshot {
	var s CounterSnapshot
	for m := range NumMembers {
		s.Calls[m] = c.calls[m].Load()
		s.Completions[m] = c.completions[m].Load()
	}
	return s
}
