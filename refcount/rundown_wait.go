package refcount

import (
	"context"
	"sync"
	"sync/atomic"
)

// waiters is the slow-path half shared by Rundown and Sharded. Windows keeps a single
// waiter block in the rundown word, so only one concurrent waiter is defined there; the
// Go model lets any number of Wait and WaitFunc callers share one drain event instead.
// Everything here runs only once rundown is active, so a plain mutex is fine.
//
// Completion order: the drain runs every queued WaitFunc callback first and only then
// marks the rundown Done and wakes the Wait callers, so "Wait returned" (or Done) implies
// the teardown callbacks have run.
type waiters struct {
	mu      sync.Mutex
	ch      chan struct{} // created lazily by the first blocking Wait; closed on drain
	fns     []func()      // WaitFunc callbacks still to run
	firing  bool          // a goroutine is running the callbacks (under mu)
	drained atomic.Bool   // set (under mu) once the callbacks ran: the rundown completed
}

// fire completes the rundown if stillDrained (evaluated under mu, so a stale caller that
// lost a race with ReInit or with a transient acquirer does nothing). It runs the
// callbacks on the calling goroutine, outside the lock, each exactly once (including any
// queued meanwhile), then marks the rundown Done and wakes the waiters.
func (w *waiters) fire(stillDrained func() bool) {
	w.mu.Lock()
	if w.drained.Load() || w.firing || !stillDrained() {
		w.mu.Unlock()
		return
	}
	w.firing = true
	for len(w.fns) > 0 {
		fns := w.fns
		w.fns = nil
		w.mu.Unlock()
		for _, fn := range fns {
			fn()
		}
		w.mu.Lock()
	}
	w.firing = false
	w.drained.Store(true)
	if w.ch != nil {
		close(w.ch)
	}
	w.mu.Unlock()
}

// wait blocks until the rundown completes or ctx is done.
func (w *waiters) wait(ctx context.Context) error {
	w.mu.Lock()
	if w.drained.Load() {
		w.mu.Unlock()
		return nil
	}
	if w.ch == nil {
		w.ch = make(chan struct{})
	}
	ch := w.ch
	w.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		// The rundown stays active: the caller gave up waiting, not the rundown.
		return ctx.Err()
	}
}

// add queues fn, or runs it at once if the rundown already completed. While another
// goroutine is running the callbacks, fn is queued and that goroutine runs it.
func (w *waiters) add(fn func()) {
	w.mu.Lock()
	if w.drained.Load() {
		w.mu.Unlock()
		fn()
		return
	}
	w.fns = append(w.fns, fn)
	w.mu.Unlock()
}

// reset prepares for a new rundown; caller holds mu and has checked drained.
func (w *waiters) reset() {
	w.ch = nil
	w.fns = nil
	w.drained.Store(false)
}
