package refcount

import (
	"context"
	"sync"
)

// waiters is the slow-path half shared by Rundown and Sharded: the Wait callers' channel
// and the WaitFunc continuations still to run. Windows keeps a single waiter block in the
// rundown word, so only one concurrent waiter is defined there; the Go model lets any
// number of Wait and WaitFunc callers share one drain event instead. A Rundown makes its
// block only when a waiter finds references held (most rundowns never do); a Sharded
// guard embeds it. Everything here runs only once rundown is active, so a plain mutex
// is fine.
//
// The guard keeps its own "completed" state (Rundown: stDrained in the word; Sharded:
// done) and hands this block the two questions about it, asked under mu: enlist (is it
// complete? if not, the caller will wait, so the guard must drain through this block)
// and ready (may this caller run the drain?).
//
// Completion order: the drain runs every queued WaitFunc callback first and only then
// marks the rundown complete and wakes the Wait callers, so "Wait returned" (or Done)
// implies the teardown callbacks have run.
type waiters struct {
	mu     sync.Mutex
	ch     chan struct{} // created lazily by the first blocking Wait; closed on drain
	fns    []func()      // WaitFunc callbacks still to run
	firing bool          // a goroutine is running the callbacks (under mu)
}

// fire completes the rundown if ready() (evaluated under mu, so a stale caller that lost
// a race with another drainer, ReInit or a transient acquirer does nothing). It runs the
// callbacks on the calling goroutine, outside the lock, each exactly once (including any
// queued meanwhile), then calls done under mu and wakes the waiters.
func (w *waiters) fire(ready func() bool, done func()) {
	w.mu.Lock()
	if w.firing || !ready() {
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
	done()
	if w.ch != nil {
		close(w.ch)
	}
	w.mu.Unlock()
}

// wait blocks until the rundown completes or ctx is done; enlist is the guard's question
// (see waiters).
func (w *waiters) wait(ctx context.Context, enlist func() (completed bool)) error {
	w.mu.Lock()
	if enlist() {
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
func (w *waiters) add(fn func(), enlist func() (completed bool)) {
	w.mu.Lock()
	if enlist() {
		w.mu.Unlock()
		fn()
		return
	}
	w.fns = append(w.fns, fn)
	w.mu.Unlock()
}

// reset prepares for a new rundown; the caller holds mu and has checked it completed.
func (w *waiters) reset() {
	w.ch = nil
	w.fns = nil
}
