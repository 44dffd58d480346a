//go:build unix || windows

package wsk

import (
	"sync"

	"github.com/gowsk/gowsk/irp"
)

// closeRun is what one run of the close protocol carries from one step to the next: the
// socket, the close IRP and the bytes held at step 5. Each wait of the protocol is a
// continuation handed to a rundown's WaitFunc (steps 4 and 5) or to the engine (step 7),
// and a closure made at every close would be one allocation per wait. So the runs are
// recycled, and each keeps its three continuations (method values of the run, made once
// when the run is made) across uses: a close allocates nothing of its own here, and the
// refcount guards allocate nothing either when, as usual, no reference is held at the
// wait (SPEC.md §3.1; refcount's doc, "Where a drain runs").
//
// When a run may be reused. Each continuation runs exactly once (the rundown's and the
// engine's contracts), in order: afterCallbacks, then afterInflight, then afterEngine,
// which reads what it needs from the run and gives the run back before it closes the
// descriptor and completes the close IRP. Nothing reads the run after that: the engine
// may still hold the func value it just called, but never calls it again.
type closeRun struct {
	s    *socket
	i    *irp.IRP // the close IRP; nil when the provider destroys a socket it never handed out
	held int      // bytes held at step 5 (unread input: they make the close abortive)

	afterCallbacks func() // r.cancelStep: steps 5 on, once no callback runs
	afterInflight  func() // r.resetStep: steps 6 on, once every admitted IRP completed
	afterEngine    func() // r.descriptorStep: steps 7 and 8, once no handler runs
}

// closeRunPool has no New: one referring to the steps would be an initialisation cycle
// (the steps reach closeProtocol, which takes from the pool), so newCloseRun makes a run
// itself when the pool has none.
var closeRunPool sync.Pool

// newCloseRun returns a recycled run for a close of s with close IRP i (nil for none).
func newCloseRun(s *socket, i *irp.IRP) *closeRun {
	r, _ := closeRunPool.Get().(*closeRun)
	if r == nil {
		r = new(closeRun)
		r.afterCallbacks, r.afterInflight, r.afterEngine = r.cancelStep, r.resetStep, r.descriptorStep
	}
	r.s, r.i = s, i
	return r
}

// recycle gives the run back; its caller reads nothing of it afterwards.
func (r *closeRun) recycle() {
	r.s, r.i, r.held = nil, nil, 0
	closeRunPool.Put(r)
}
