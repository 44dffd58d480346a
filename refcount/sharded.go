package refcount

import (
	"context"
	"math/bits"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// shard is one padded counter. Padding to 64 bytes keeps two shards off one cache line,
// which is the whole point of the cache-aware variant.
//
// Shard word, the Rundown layout per shard:
//
//	bit 0       shardActive: Begin has marked this shard; an acquire on it is refused.
//	bits 1..63  the shard's share of the references, in units of shardUnit, as a signed
//	            count: an Acquire and its Release may land on different shards, so one
//	            shard may go negative and only the sum of all shards means anything.
type shard struct {
	n atomic.Int64
	_ [56]byte
}

const (
	shardActive = 1
	shardUnit   = 2
)

// Sharded is cache-aware rundown protection (EX_RUNDOWN_REF_CACHE_AWARE) with the same
// observable semantics as Rundown. References are spread over padded per-shard counters
// so that parallel Acquire/Release pairs do not fight over one cache line.
//
// Shard choice: Go offers no supported per-P index (runtime_procPin is internal), so a
// goroutine's shard is a hash of its stack address (pick): stable per goroutine, so an
// Acquire and its Release touch one line. It wins under contention (two cores: about
// 9-10 ns a pair against 21-24 ns for the plain word in one run) and loses a little
// uncontended (the hash: 13-14 ns against 12-13 ns).
//
// Protocol. Acquire is a compare-and-swap on its shard that is refused, writing nothing,
// once the shard's active bit is set. Begin sets the active bit of every shard, then sets
// marked, then sums. From the moment a shard is marked its count only falls, and a
// refused acquire leaves no transient unit anywhere, so once every shard is marked the
// sum is exact: zero proves the drain. A Release that lands on a marked shard sums the
// shards (if marked is set); Begin sums once itself after setting marked. Whoever sees
// the exact zero completes the rundown, and that is never an Acquire.
//
// Unbalanced releases are detected once rundown is active (when the sum is exact); before
// that a stray Release is only seen later as a negative sum. Use NewSharded; the zero
// value is not usable.
type Sharded struct {
	marked atomic.Bool // every shard's active bit is set: sums are exact
	done   atomic.Bool // the rundown completed (set under w.mu, after the callbacks ran)
	mask   uint32
	shards []shard
	w      waiters
}

// NewSharded returns a cache-aware guard with four shards per P (GOMAXPROCS at the time
// of the call, so that two running goroutines rarely hash to one shard), rounded up to
// a power of two and capped at 64 (ExAllocateCacheAwareRundownProtection). It costs 64
// bytes a shard: use it for an engine- or listener-wide guard, never per connection.
func NewSharded() *Sharded {
	p := runtime.GOMAXPROCS(0)
	p = min(max(4*p, 4), 64)
	n := 1 << bits.Len(uint(p-1))
	return &Sharded{mask: uint32(n - 1), shards: make([]shard, n)}
}

// pick returns the calling goroutine's shard: a hash of an address on its stack. Go has
// no supported per-P index, and a random shard per call (the first version) sent an
// Acquire and its Release to different cache lines, so two cores fought over both lines
// and the sharded guard lost to the plain word under contention. A stack address is
// stable for a goroutine (until its stack is moved, which only changes the shard), so the
// pair of one goroutine stays on one line, owned by its core; goroutines on other cores
// hash elsewhere (four shards per P make a collision unlikely). Correctness never depends
// on the choice: only the sum of the shards means anything.
func (s *Sharded) pick() *shard {
	var here byte
	h := uint64(uintptr(unsafe.Pointer(&here))>>10) * 0x9e3779b97f4a7c15
	return &s.shards[uint32(h>>32)&s.mask]
}

// Acquire takes one reference; false once rundown has begun or on overflow. It never runs
// a drain (see Rundown.Acquire).
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
	d := int64(n) * shardUnit
	for {
		v := sh.n.Load()
		if v&shardActive != 0 {
			return ErrRundown
		}
		if v>>1+int64(n) > MaxRefs {
			return ErrOverflow
		}
		if sh.n.CompareAndSwap(v, v+d) {
			return nil
		}
	}
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
	d := int64(n) * shardUnit
	if sh.n.Add(-d)&shardActive == 0 || !s.marked.Load() {
		return // not run down yet, or Begin is still marking: it sums after marking
	}
	if s.sum() < 0 {
		// More releases than acquires: restore and report.
		sh.n.Add(d)
		s.w.fire(s.drainedNow, s.setDone)
		reportUnbalanced(uint64(n))
		return
	}
	s.w.fire(s.drainedNow, s.setDone)
}

// sum adds up the shards' counts (their words shifted past the active bit).
func (s *Sharded) sum() int64 {
	var t int64
	for i := range s.shards {
		t += s.shards[i].n.Load() >> 1
	}
	return t
}

// drainedNow is the drain condition, re-checked under w.mu: not completed yet, every
// shard marked (the sum is exact) and nothing held.
func (s *Sharded) drainedNow() bool { return !s.done.Load() && s.marked.Load() && s.sum() == 0 }

// setDone marks the rundown complete (under w.mu, after the callbacks ran).
func (s *Sharded) setDone() { s.done.Store(true) }

// completed is the waiters' enlist question: a Sharded guard always drains through its
// embedded block, so a waiter only needs to know whether the drain already happened.
func (s *Sharded) completed() bool { return s.done.Load() }

// Begin starts rundown without waiting and reports whether it is already complete.
func (s *Sharded) Begin() (drained bool) {
	for i := range s.shards {
		s.shards[i].n.Or(shardActive)
	}
	s.marked.Store(true)
	s.w.fire(s.drainedNow, s.setDone)
	return s.done.Load()
}

// Wait begins rundown and blocks until every granted reference is back or ctx ends
// (then ctx.Err(), rundown stays active). Any number of concurrent waiters.
func (s *Sharded) Wait(ctx context.Context) error {
	if s.Begin() {
		return nil
	}
	return s.w.wait(ctx, s.completed)
}

// WaitFunc begins rundown; fn runs exactly once when drained, never blocking the
// caller. See Rundown.WaitFunc.
func (s *Sharded) WaitFunc(fn func()) {
	s.Begin()
	if fn != nil {
		s.w.add(fn, s.completed)
	}
}

// Active reports whether rundown has begun (Begin marks shard 0 first).
func (s *Sharded) Active() bool { return s.shards[0].n.Load()&shardActive != 0 }

// Done reports whether rundown has begun and completed.
func (s *Sharded) Done() bool { return s.done.Load() }

// Count returns the references held now (sum of the shards, a snapshot, never < 0).
func (s *Sharded) Count() int { return int(max(s.sum(), 0)) }

// ReInit makes a run-down guard usable again; ErrNotRunDown unless drained.
func (s *Sharded) ReInit() error {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if !s.done.Load() {
		return ErrNotRunDown
	}
	s.done.Store(false)
	s.marked.Store(false)
	for i := range s.shards {
		s.shards[i].n.And(^int64(shardActive))
	}
	s.w.reset()
	return nil
}
