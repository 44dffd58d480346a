// Package refcount holds the lifetime guards of gowsk: rundown protection, which lets
// many callers use a socket without a lock while its owner can still close it safely,
// and a plain reference count with a finaliser.
//
// # The model
//
// An accessor (a WSK call on a socket) takes a reference ([Rundown.Acquire]) before
// touching the object and gives it back ([Rundown.Release]) after. Close runs the object
// down ([Rundown.Wait], [Rundown.WaitFunc]): from the moment rundown begins, every new
// Acquire fails (the call returns STATUS_INVALID_DEVICE_STATE / [ErrRundown]),
// while callers that acquired earlier finish undisturbed. Once the last of them releases,
// the rundown is complete and the object may be freed. This is exactly what Go's
// internal/poll.fdMutex does for net.Conn.Close (closed bit, reference count, wait for
// the last reference), and what EX_RUNDOWN_REF does for Windows drivers.
//
// # Windows names
//
//	ExInitializeRundownProtection          var r Rundown (zero value) / NewSharded
//	ExAcquireRundownProtection             (*Rundown).Acquire, TryAcquire
//	ExAcquireRundownProtectionEx(r, n)     (*Rundown).AcquireN, TryAcquireN
//	ExReleaseRundownProtection             (*Rundown).Release
//	ExReleaseRundownProtectionEx(r, n)     (*Rundown).ReleaseN
//	ExWaitForRundownProtectionRelease      (*Rundown).Wait(ctx); WaitFunc(fn) never blocks
//	ExRundownCompleted                     implicit: the drain marks it; query with Done
//	ExReInitializeRundownProtection        (*Rundown).ReInit (only after Done)
//	Ex...RundownProtectionCacheAware       the same methods on *Sharded
//	ExAllocateCacheAwareRundownProtection  NewSharded
//	ObReferenceObject / ObDereferenceObject (*Ref).Add / (*Ref).Release
//
// # Model decisions
//
// Many waiters. Windows stores a pointer to the single waiter's block inside the rundown
// word, so a second concurrent ExWaitForRundownProtectionRelease is undefined. gowsk lets
// any number of Wait and WaitFunc callers share one drain event (a lazily created channel
// and a callback list beside the word), because several goroutines closing one socket
// at once is ordinary in Go. All of them return, or run, once the count drains.
//
// WaitFunc. Close is often called from a completion routine that itself holds a
// reference; blocking there would deadlock. WaitFunc begins rundown and runs its callback
// on whichever goroutine drops the last reference (at once if none is held).
//
// Cancellable wait. Wait takes a context; giving up the wait does not undo the rundown.
//
// Overflow is [ErrOverflow], never a wrapped counter or a panic (MaxRefs).
//
// Misuse. A Release without an Acquire is clamped and counted ([UnbalancedReleases], and
// the wsk provider's Stats.UnbalancedRundownReleases); the first one in the process is
// also logged to [log/slog.Default] at Warn level, so that it is not missed. In verifier
// mode (GOWSK_VERIFIER=1 at start-up, or [SetVerifier]) it panics with
// "refcount: inconsistent rundown state: release without acquire", as Driver Verifier
// would bug-check.
//
// # Where a drain runs
//
// The drain of a rundown (every WaitFunc continuation, then Done and the Wait callers'
// wake-up) runs on exactly one goroutine:
//
//   - the one calling Begin, Wait or WaitFunc, when no reference is held at that moment;
//   - otherwise the one whose Release drops the last reference.
//
// Never an Acquire: a refused Acquire writes nothing to the guard, so it cannot be the
// one that empties it. That is the rule the provider builds on. Acquire may be called
// with any lock held (the provider's loop takes the callbacks rundown under a socket's
// lock). Release, Begin, Wait and WaitFunc must not be called with a lock held that a
// continuation of the same guard takes: the continuation would run under it. The same
// holds for Ref.Release and its finaliser.
//
// "Invariant N" in this package's comments is the N-th invariant of the numbered list in
// the repository's specification, SPEC.md §10.
//
// # Layout
//
// Rundown is one atomic word and a pointer: the references in the low bits, and three
// flags in the top ones (rundown active, drained, somebody waits in the waiter block);
// rundown.go documents it bit by bit. Unlike EX_RUNDOWN_REF (bit 0 active, count in
// units of 2) the flags are on top, so that a word that is neither run down nor full is
// just a number at most MaxRefs: Acquire is a load, one compare and a compare-and-swap
// that is refused, writing nothing, once the word is not such a number; Release is one
// atomic add and one compare. A rundown that finds no reference held completes in one
// compare-and-swap (Begin sets active and drained together), and the waiter block (a
// lock, the Wait channel, the WaitFunc list) is made only for a waiter that finds
// references held: running down an idle guard allocates nothing. Sharded spreads the
// count over padded per-P-ish words, each with bit 0 active and the count in units of 2;
// Begin sets every word's bit 0. It costs memory and a summing slow path during rundown,
// and wins when many goroutines acquire the same guard in parallel.
package refcount
