package refcount

import (
	"context"
	"runtime"
	"sync/atomic"
)

// Rundown state word. The references are the low bits and the rundown's flags the high
// ones, so that a word with no flag and a count below MaxRefs (the only state the hot
// paths meet) is simply a number ≤ MaxRefs: each hot path is one compare with MaxRefs.
//
//	bits 0..29   references held (at most MaxRefs = 2^30-1).
//	bits 30..60  zero. Set only between an unbalanced Release's wrap below zero and its
//	             restore (wrapMask), a few instructions later on that goroutine.
//	bit 61       stWaiting: a waiter block is in use for this rundown (a WaitFunc or a
//	             Wait found references held and registered in r.w); the drain runs there.
//	bit 62       stDrained: the rundown completed (ExRundownCompleted): active, no
//	             reference, every WaitFunc continuation queued before it has run.
//	bit 63       stActive: rundown has begun (Begin, Wait, WaitFunc); every new acquire
//	             is refused.
//
// The states, as (active, drained, waiting, count):
//
//	0 0 0 n     not run down; n references
//	1 0 0 n>0   run down while references are held, nobody waits in a block
//	1 0 1 n>0   ... and Wait or WaitFunc callers wait in the block
//	1 0 x 0     the last reference is gone; its Release is completing the rundown
//	1 1 0 0     drained without a waiter block: nobody had to wait
//	1 1 1 0     drained through the block (its continuations ran, its Waits returned)
//
// Flags only get set, never cleared, until ReInit clears them all. Drained and waiting
// are never set without active, and drained never with a reference.
//
// Who completes the rundown. A refused acquire writes nothing, so the count is always
// the granted references and only a Release can take an active word's count to zero.
// Begin on a word with no reference sets active and drained in one compare-and-swap:
// the rundown is complete at once and nothing waits, so no waiter block is ever made.
// Otherwise the Release that drops the last reference completes it: with waiting clear it
// sets drained in one compare-and-swap (no block, nothing to run), with waiting set it
// runs the block's drain. A waiter registers by setting waiting with a compare-and-swap
// under the block's lock, which fails if drained is already set (the waiter then runs
// its continuation itself) and makes the last Release's claim fail (it then drains the
// block, which it can only do after the waiter let go of the lock). So a continuation
// runs exactly once, and a drain never runs inside Acquire (SPEC.md §4.9).
const (
	stWaiting   uint64 = 1 << 61
	stDrained   uint64 = 1 << 62
	stActive    uint64 = 1 << 63
	countMask   uint64 = MaxRefs
	flagMask           = stActive | stDrained | stWaiting
	wrapMask           = ^uint64(countMask) &^ flagMask
	msgDrainedN        = "refcount: inconsistent rundown state: drained with references held"
	msgFlags           = "refcount: inconsistent rundown state: drained or waiting without rundown active"
)

// Rundown is rundown protection (EX_RUNDOWN_REF) for one object: accessors Acquire a
// reference before using it and Release it after; the owner calls Wait (or WaitFunc)
// before tearing the object down, after which every Acquire fails. The zero value is
// ready to use (ExInitializeRundownProtection). All methods are safe for concurrent
// use; Acquire and Release are one atomic instruction each on the hot path. A Rundown
// must not be copied after first use. It is 16 bytes: the word and a pointer to the
// waiter block, made only when a Wait or WaitFunc finds references still held (a socket
// holds several guards, so they must be small, and most rundowns find none).
type Rundown struct {
	state atomic.Uint64
	w     atomic.Pointer[waiters] // nil until a waiter must wait (waitersOf)
}

// waitersOf returns the waiter block, making it the first time. Only a Wait or WaitFunc
// that found references held calls it.
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
	// Inlined: one load, one compare, one compare-and-swap; the loop turns again only
	// when another acquire or release changed the word in between. A word at or above
	// MaxRefs has a flag set (rundown active) or a full count: refused, nothing written.
	for {
		s := r.state.Load()
		if s >= countMask {
			return false
		}
		if r.state.CompareAndSwap(s, s+1) {
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

// acquire is the compare-and-swap loop of the counted forms: it retries only when another
// acquire or release changed the word between the load and the swap, and gives up without
// writing once the word says refuse.
func (r *Rundown) acquire(n uint32) error {
	if n > MaxRefs {
		return ErrOverflow
	}
	for {
		s := r.state.Load()
		if s&stActive != 0 {
			return ErrRundown
		}
		if s+uint64(n) > countMask { // a full count, or a wrap in progress
			return ErrOverflow
		}
		if r.state.CompareAndSwap(s, s+uint64(n)) {
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
	// Inlined: one atomic add and one compare. Above MaxRefs afterwards means a flag is
	// set (rundown active) or the count wrapped below zero.
	if s := r.state.Add(^uint64(0)); s > countMask {
		r.releaseSlow(s, 1)
	}
}

// ReleaseN drops n references (ExReleaseRundownProtectionEx), like n Release calls.
func (r *Rundown) ReleaseN(n uint32) {
	if n == 0 {
		return
	}
	if s := r.state.Add(-uint64(n)); s > countMask {
		r.releaseSlow(s, n)
	}
}

// releaseSlow handles a release of n that left the word s: rundown active (the last
// reference may be gone), or an unbalanced release that wrapped the count.
func (r *Rundown) releaseSlow(s uint64, n uint32) {
	if s&wrapMask != 0 {
		// More releases than acquires: the count borrowed from the bits above it. Put
		// the units back (the word is then what it was) and report. A release of ours
		// that met the wrap in between left the drain to us: look again.
		if u := r.state.Add(uint64(n)); u&(stActive|stDrained|countMask) == stActive {
			r.drain()
		}
		reportUnbalanced(uint64(n))
		return
	}
	if s&countMask == 0 {
		r.drain()
	}
}

// drain completes a rundown whose last reference is gone (or was never there). Whoever
// sees an active word with no reference calls it; more than one may, and exactly one
// completes the rundown: the compare-and-swap that sets drained when nobody waits, or the
// block's drain (under its lock) when somebody does.
func (r *Rundown) drain() {
	for {
		s := r.state.Load()
		switch {
		case s&wrapMask != 0:
			return // an unbalanced release is restoring the word: it looks again
		case s&stDrained != 0:
			checkDrained(s)
			return // completed by another goroutine
		case s&countMask != 0:
			return // not empty after all (a stray Release showed zero): the last Release drains
		case s&stWaiting != 0:
			r.w.Load().fire(r.notDrained, r.setDrained)
			return
		case r.state.CompareAndSwap(s, s|stDrained):
			return
		}
	}
}

// notDrained is the block's re-check under its lock: drain may have been called by more
// than one goroutine, and only the first runs the continuations.
func (r *Rundown) notDrained() bool { return r.state.Load()&stDrained == 0 }

// setDrained marks the rundown complete; the block's drain calls it under its lock, once
// its continuations ran.
func (r *Rundown) setDrained() { r.state.Or(stDrained) }

// checkDrained panics if a drained word holds a reference or lacks the active bit: a
// copied guard or a ReInit racing with its users, never a sequence of the methods.
func checkDrained(s uint64) {
	if s&stActive == 0 {
		panic(msgFlags)
	}
	if s&countMask != 0 {
		panic(msgDrainedN)
	}
}

// stable loads the word, yielding while an unbalanced release has it wrapped (the
// goroutine that wrapped it puts it back a few instructions later).
func (r *Rundown) stable() uint64 {
	for {
		s := r.state.Load()
		if s&wrapMask == 0 {
			return s
		}
		runtime.Gosched()
	}
}

// Begin starts rundown without waiting: from now on every Acquire fails. It reports
// whether the rundown is already complete (no reference was held, or all came back).
// Calling it again is harmless. It never makes a waiter block: on a guard that no call
// holds it completes the rundown in one compare-and-swap.
func (r *Rundown) Begin() (drained bool) {
	for {
		s := r.stable()
		if s&stActive != 0 {
			return s&stDrained != 0
		}
		if s&(stDrained|stWaiting) != 0 {
			panic(msgFlags)
		}
		next := s | stActive
		if s == 0 {
			next |= stDrained // nothing held, nobody can be waiting yet: complete now
		}
		if r.state.CompareAndSwap(s, next) {
			return next&stDrained != 0
		}
	}
}

// enlist registers a waiter: it sets stWaiting unless the rundown already completed, and
// reports whether it had (then the caller does not wait). Called with the block's lock
// held, so that the drain, which takes that lock, sees what the waiter queued.
func (r *Rundown) enlist() (drained bool) {
	for {
		s := r.stable()
		switch {
		case s&stDrained != 0:
			return true
		case s&stWaiting != 0:
			return false
		case r.state.CompareAndSwap(s, s|stWaiting):
			return false
		}
	}
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
	return r.waitersOf().wait(ctx, r.enlist)
}

// WaitFunc begins rundown and arranges for fn to run exactly once when every granted
// reference is back: at once on the caller's goroutine if none is held, otherwise on
// the goroutine whose Release drops the last reference. It never blocks (safe to call
// from inside a call that itself holds a reference: close from a completion routine).
// A nil fn just begins rundown. Only a WaitFunc that finds references held allocates
// (the waiter block, once per guard, and room for fn in it): pass a function made
// once, not a new closure, where a close must not allocate.
func (r *Rundown) WaitFunc(fn func()) {
	if r.Begin() {
		if fn != nil {
			fn()
		}
		return
	}
	if fn != nil {
		r.waitersOf().add(fn, r.enlist)
	}
}

// Active reports whether rundown has begun.
func (r *Rundown) Active() bool { return r.state.Load()&stActive != 0 }

// Done reports whether rundown has begun and completed (ExRundownCompleted state):
// every reference is back and the queued WaitFunc callbacks have run.
func (r *Rundown) Done() bool { return r.state.Load()&stDrained != 0 }

// Count returns the references held now (a snapshot).
func (r *Rundown) Count() int { return int(r.state.Load() & countMask) }

// ReInit makes a run-down ref usable again (ExReInitializeRundownProtection): count 0,
// not active, acquires succeed. It returns ErrNotRunDown unless the rundown completed.
// The caller must ensure nobody still waits on the old rundown's object.
func (r *Rundown) ReInit() error {
	w := r.w.Load()
	if w != nil {
		w.mu.Lock()
		defer w.mu.Unlock()
	}
	for {
		s := r.stable()
		if s&stDrained == 0 {
			return ErrNotRunDown
		}
		checkDrained(s)
		// Drained means no reference, and refused acquirers never wrote to the word.
		if r.state.CompareAndSwap(s, 0) {
			break
		}
	}
	if w != nil {
		w.reset()
	}
	return nil
}
