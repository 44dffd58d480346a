package refcount

import (
	"context"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
)

// shard is one padded counter. Padding to 64 bytes keeps two shards off one cache line,
// which is the whole point of the cache-aware variant.
type shard struct {
	n atomic.Int64
	_ [56]byte
}

// Sharded is cache-aware rundown protection (EX_RUNDOWN_REF_CACHE_AWARE) with the same
// observable semantics as Rundown. References are spread over padded per-shard counters
// so that parallel Acquire/Release pairs do not fight over one cache line; one shared
// flag says rundown is active.
//
// Shard choice: Go offers no supported per-P index (runtime_procPin is internal), so a
// shard is picked with the runtime's cheap per-thread random generator (math/rand/v2).
// Acquire and its Release may land on different shards; a single shard may therefore go
// negative and only the sum of all shards means anything.
//
// Protocol: Acquire adds to its shard, then loads the flag; if set it undoes and fails.
// Begin stores the flag, then sums. With sequentially consistent atomics either the
// acquirer sees the flag, or Begin's sum sees the increment. After the flag is set the
// granted part of every shard only falls, so a summed snapshot is never below the true
// count: a zero sum proves the drain. Every Release (and every undo) that finds the flag
// set sums the shards, so whoever removes the last unit completes the rundown.
//
// Unbalanced releases are detected once rundown is active (when the sum is exact
// enough to tell); before that a stray Release is only seen later as a negative sum.
// Use NewSharded; the zero value is not usable.
type Sharded struct {
	active atomic.Bool
	mask   uint32
	shards []shard
	w      waiters
}

// NewSharded returns a cache-aware guard with one shard per P (GOMAXPROCS at the time
// of the call), rounded up to a power of two and capped at 64
// (ExAllocateCacheAwareRundownProtection).
func NewSharded() *Sharded {
	p := runtime.GOMAXPROCS(0)
	p = min(max(p, 1), 64)
	n := 1 << bits.Len(uint(p-1))
	return &Sharded{mask: uint32(n - 1), shards: make([]shard, n)}
}

func (s *Sharded) pick() *shard { return &s.shards[rand.Uint32()&s.mask] }

// Acquire takes one reference; false once rundown has begun or on overflow.
func (s *Sharded) Acquire() bool { return s.acquire(1) == nil }

// TryAcquire is Acquire that says why it failed: nil, ErrRundown or ErrOverflow.
func (s *Sharded) TryAcquire() error { return s.acquire(1) }

// AcquireN takes n references at once, all or nothing, on one shard.
func (s *Sharded) AcquireN(n uint32) bool { return s.acquire(n) == nil }

// TryAcquireN is AcquireN that says why it failed.
func (s *Sharded) TryAcquireN(n uint32) error { return s.acquire(n) }

func (s *Sharded) acquire(n uint32) error {
	if n > MaxRefs {
		return ErrOverflow
	}
	sh := s.pick()
	v := sh.n.Add(int64(n))
	if !s.active.Load() && v <= MaxRefs {
		return nil
	}
	sh.n.Add(-int64(n))
	if s.active.Load() {
		s.w.fire(s.drainedNow) // our undo may have removed the last unit
		return ErrRundown
	}
	return ErrOverflow
}

// Release drops one reference; see Rundown.Release for the drain contract.
func (s *Sharded) Release() { s.release(1) }

// ReleaseN drops n references, like n Release calls.
func (s *Sharded) ReleaseN(n uint32) {
	if n > 0 {
		s.release(n)
	}
}

func (s *Sharded) release(n uint32) {
	sh := s.pick()
	sh.n.Add(-int64(n))
	if !s.active.Load() {
		return
	}
	if s.sum() < 0 {
		// More releases than acquires: restore and report.
		sh.n.Add(int64(n))
		s.w.fire(s.drainedNow)
		reportUnbalanced(uint64(n))
		return
	}
	s.w.fire(s.drainedNow)
}

func (s *Sharded) sum() int64 {
	var t int64
	for i := range s.shards {
		t += s.shards[i].n.Load()
	}
	return t
}

func (s *Sharded) drainedNow() bool { return s.active.Load() && s.sum() == 0 }

// Begin starts rundown without waiting and reports whether it is already complete.
func (s *Sharded) Begin() (drained bool) {
	s.active.Store(true)
	s.w.fire(s.drainedNow)
	return s.w.drained.Load()
}

// Wait begins rundown and blocks until every granted reference is back or ctx ends
// (then ctx.Err(), rundown stays active). Any number of concurrent waiters.
func (s *Sharded) Wait(ctx context.Context) error {
	if s.Begin() {
		return nil
	}
	return s.w.wait(ctx)
}

// WaitFunc begins rundown; fn runs exactly once when drained, never blocking the
// caller. See Rundown.WaitFunc.
func (s *Sharded) WaitFunc(fn func()) {
	s.Begin()
	if fn != nil {
		s.w.add(fn)
	}
}

// Active reports whether rundown has begun.
func (s *Sharded) Active() bool { return s.active.Load() }

// Done reports whether rundown has begun and completed.
func (s *Sharded) Done() bool { return s.w.drained.Load() }

// Count returns the references held now (sum of the shards, a snapshot, never < 0).
func (s *Sharded) Count() int { return int(max(s.sum(), 0)) }

// ReInit makes a run-down guard usable again; ErrNotRunDown unless drained.
func (s *Sharded) ReInit() error {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if !s.w.drained.Load() {
		return ErrNotRunDown
	}
	s.active.Store(false)
	s.w.reset()
	return nil
}
