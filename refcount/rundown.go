package refcount

import (
	"context"
	"sync/atomic"
)

// Rundown state word, the EX_RUNDOWN_REF layout:
//
//	bit 0       rundownActive: Wait/WaitFunc/Begin was called; every new acquire fails.
//	bits 1..63  references held, counted in units of refUnit (2).
//
// Unlike Windows the word never holds a pointer to a waiter block: waiters live beside
// it (type waiters), so any number of them can wait. The block is made by the first
// rundown (Begin, Wait, WaitFunc), never by Acquire or Release: a guard that is never run
// down costs its two words and nothing else.
//
// An acquire is a compare-and-swap that only ever writes a granted reference: a refused
// acquire reads the word and leaves it alone. So the count is always exactly the granted
// references, and the one goroutine that can see an active word fall to zero is a Release
// (or Begin finding it zero already). A drain therefore never runs inside Acquire, which
// is what lets Acquire be called under a lock that a WaitFunc continuation takes.
const (
	rundownActive = 1
	refUnit       = 2
	// refusedMask: any of these bits set in the word an acquire would write means refuse
	// it, either bit 0 (rundown active) or a count above MaxRefs (MaxRefs+1 is a power of
	// two), so the hot path is one load, one add, one test and one compare-and-swap.
	refusedMask = rundownActive | ^uint64((MaxRefs+1)*refUnit-1)
)

// Rundown is rundown protection (EX_RUNDOWN_REF) for one object: accessors Acquire a
// reference before using it and Release it after; the owner calls Wait (or WaitFunc)
// before tearing the object down, after which every Acquire fails. The zero value is
// ready to use (ExInitializeRundownProtection). All methods are safe for concurrent
// use; Acquire and Release are one atomic add on the hot path. A Rundown must not be
// copied after first use. It is 16 bytes: the word and a pointer to the waiter block,
// made when rundown begins (a socket holds several guards, so they must be small).
type Rundown struct {
	state atomic.Uint64
	w     atomic.Pointer[waiters] // nil until rundown begins (waitersOf)
}

// waitersOf returns the waiter block, making it the first time. Only the slow paths call
// it: those of a rundown that has begun (or is beginning).
func (r *Rundown) waitersOf() *waiters {
	if w := r.w.Load(); w != nil {
		return w
	}
	w := new(waiters)
	if r.w.CompareAndSwap(nil, w) {
		return w
	}
	return r.w.Load()
}

// Acquire takes one reference. It returns false if rundown has begun (the object is
// going away) or the count would pass MaxRefs; then nothing is held and nothing changed.
// Never blocks, and never runs a drain: it may be called with any lock held.
func (r *Rundown) Acquire() bool {
	// Small enough to inline (no call: a call alone would cost the inliner most of its
	// budget): one load, a test, one compare-and-swap; the loop turns again only when
	// another acquire or release changed the word in between. Refused, it writes nothing.
	for {
		s := r.state.Load()
		if (s+refUnit)&refusedMask != 0 {
			return false
		}
		if r.state.CompareAndSwap(s, s+refUnit) {
			return true
		}
	}
}

// TryAcquire is Acquire that says why it failed: nil, ErrRundown or ErrOverflow.
func (r *Rundown) TryAcquire() error { return r.acquire(1) }

// AcquireN takes n references at once (ExAcquireRundownProtectionEx); all or nothing.
// AcquireN(0) succeeds without taking anything unless rundown has begun.
func (r *Rundown) AcquireN(n uint32) bool { return r.acquire(n) == nil }

// TryAcquireN is AcquireN that says why it failed.
func (r *Rundown) TryAcquireN(n uint32) error { return r.acquire(n) }

func (r *Rundown) acquire(n uint32) error {
	if n > MaxRefs {
		return ErrOverflow
	}
	return r.acquireSlow(uint64(n) * refUnit)
}

// acquireSlow is the compare-and-swap loop: it retries only when another acquire or
// release changed the word between the load and the swap, and gives up without writing
// once the word says refuse.
func (r *Rundown) acquireSlow(d uint64) error {
	for {
		s := r.state.Load()
		if s&rundownActive != 0 {
			return ErrRundown
		}
		if (s+d)&refusedMask != 0 {
			return ErrOverflow
		}
		if r.state.CompareAndSwap(s, s+d) {
			return nil
		}
	}
}

// Release drops one reference (ExReleaseRundownProtection). If rundown is active and
// this was the last one, the rundown completes on this goroutine: every Wait returns
// and every WaitFunc callback runs here, before Release returns. A Release without a
// matching Acquire is clamped and counted (UnbalancedReleases), or panics in verifier
// mode.
func (r *Rundown) Release() {
	// Hot path, inlined: not active (bit 0 clear) and no wrap (top bit clear).
	if s := r.state.Add(^uint64(refUnit - 1)); s&(rundownActive|1<<63) != 0 {
		r.releaseSlow(s, refUnit)
	}
}

// ReleaseN drops n references (ExReleaseRundownProtectionEx), like n Release calls.
func (r *Rundown) ReleaseN(n uint32) {
	if n > 0 {
		r.release(n)
	}
}

func (r *Rundown) release(n uint32) {
	d := uint64(n) * refUnit
	if s := r.state.Add(-d); s&(rundownActive|1<<63) != 0 {
		r.releaseSlow(s, d)
	}
}

// releaseSlow handles a release that left s (after subtracting d) with bit 0 or the
// top bit set: the last reference of an active rundown, or an unbalanced release.
func (r *Rundown) releaseSlow(s, d uint64) {
	if s == rundownActive {
		r.waitersOf().fire(r.drainedNow)
		return
	}
	if int64(s) >= 0 {
		return // rundown active, references remain.
	}
	// The count went below zero: more releases than acquires. The top bit can only be
	// set by wrapping, because the count is bounded by MaxRefs plus transient units.
	// Put the units back (the state is then what it was) and report.
	if u := r.state.Add(d); u == rundownActive {
		r.waitersOf().fire(r.drainedNow)
	}
	reportUnbalanced(d / refUnit)
}

// drainedNow is the drain condition re-checked under the waiters lock.
func (r *Rundown) drainedNow() bool { return r.state.Load() == rundownActive }

// Begin starts rundown without waiting: from now on every Acquire fails. It reports
// whether the rundown is already complete (no reference was held, or all came back).
// Calling it again is harmless.
func (r *Rundown) Begin() (drained bool) {
	if old := r.state.Or(rundownActive); old/refUnit == 0 {
		r.waitersOf().fire(r.drainedNow)
	}
	return r.waitersOf().drained.Load()
}

// Wait begins rundown and blocks until every granted reference is released
// (ExWaitForRundownProtectionRelease). It returns nil at once if none is held or the
// ref is already run down. If ctx ends first it returns ctx.Err() and the rundown stays
// active (later acquires still fail). Any number of goroutines may Wait concurrently.
// It returns only after the WaitFunc callbacks queued before the drain have run. Do not
// Wait while holding a reference of the same guard, nor inside one of its WaitFunc
// callbacks: use WaitFunc there.
func (r *Rundown) Wait(ctx context.Context) error {
	if r.Begin() {
		return nil
	}
	return r.waitersOf().wait(ctx)
}

// WaitFunc begins rundown and arranges for fn to run exactly once when every granted
// reference is back: at once on the caller's goroutine if none is held, otherwise on
// the goroutine whose Release drops the last reference. It never blocks (safe to call
// from inside a call that itself holds a reference: close from a completion routine).
// A nil fn just begins rundown.
func (r *Rundown) WaitFunc(fn func()) {
	r.Begin()
	if fn != nil {
		r.waitersOf().add(fn)
	}
}

// Active reports whether rundown has begun.
func (r *Rundown) Active() bool { return r.state.Load()&rundownActive != 0 }

// Done reports whether rundown has begun and completed (ExRundownCompleted state):
// every reference is back and the queued WaitFunc callbacks have run.
func (r *Rundown) Done() bool {
	w := r.w.Load()
	return w != nil && w.drained.Load()
}

// Count returns the references held now (a snapshot).
func (r *Rundown) Count() int { return int(r.state.Load() / refUnit) }

// ReInit makes a run-down ref usable again (ExReInitializeRundownProtection): count 0,
// not active, acquires succeed. It returns ErrNotRunDown unless the rundown completed.
// The caller must ensure nobody still waits on the old rundown's object.
func (r *Rundown) ReInit() error {
	w := r.w.Load()
	if w == nil {
		return ErrNotRunDown // never run down
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.drained.Load() {
		return ErrNotRunDown
	}
	// Drained means the word is exactly rundownActive: no reference, and refused
	// acquirers never wrote to it.
	r.state.And(^uint64(rundownActive))
	w.reset()
	return nil
}
