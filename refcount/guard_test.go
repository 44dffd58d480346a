package refcount

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Invariant 39: acquire succeeds until Wait begins, fails after until ReInit; earlier
// holders are unaffected.
func TestInvariant39AcquireUntilRundown(t *testing.T) {
	forEach(t, func(t *testing.T, newG func() guard) {
		g := newG()
		require.True(t, g.Acquire())
		require.NoError(t, g.TryAcquire())
		require.Equal(t, 2, g.Count())
		require.False(t, g.Begin(), "two refs held, cannot be drained")
		require.True(t, g.Active())
		require.False(t, g.Acquire())
		require.ErrorIs(t, g.TryAcquire(), ErrRundown)
		require.False(t, g.AcquireN(3))
		require.Equal(t, 2, g.Count(), "refused acquires leave no trace")
		g.Release() // earlier holders release normally
		require.False(t, g.Done())
		g.Release()
		require.True(t, g.Done())
		require.False(t, g.Acquire(), "still fails after completion")
		require.NoError(t, g.ReInit())
		require.False(t, g.Active())
		require.True(t, g.Acquire(), "succeeds again after ReInit")
		g.Release()
	})
}

// Invariant 40: Wait returns only when every acquire is matched; at once with none
// held; no-op when already run down.
func TestInvariant40WaitDrains(t *testing.T) {
	forEach(t, func(t *testing.T, newG func() guard) {
		g := newG()
		require.NoError(t, g.Wait(context.Background()), "no refs: returns at once")
		require.True(t, g.Done())
		require.NoError(t, g.Wait(context.Background()), "already run down: no-op")

		g = newG()
		require.True(t, g.Acquire())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		require.ErrorIs(t, g.Wait(ctx), context.Canceled)
		require.True(t, g.Active(), "giving up the wait keeps rundown active")
		require.False(t, g.Acquire())
		require.ErrorIs(t, g.ReInit(), ErrNotRunDown)
		g.Release()
		require.True(t, g.Done())
		require.NoError(t, g.Wait(context.Background()))
	})
}

// Invariant 41: AcquireN/ReleaseN behave like n single calls.
func TestInvariant41AcquireNReleaseN(t *testing.T) {
	forEach(t, func(t *testing.T, newG func() guard) {
		g := newG()
		require.True(t, g.AcquireN(5))
		require.True(t, g.Acquire())
		require.Equal(t, 6, g.Count())
		require.True(t, g.AcquireN(0))
		g.ReleaseN(0)
		g.ReleaseN(3)
		require.Equal(t, 3, g.Count())
		var ran atomic.Int32
		g.WaitFunc(func() { ran.Add(1) })
		g.ReleaseN(2)
		require.Zero(t, ran.Load())
		g.Release()
		require.Equal(t, int32(1), ran.Load())
		require.Zero(t, g.Count())
	})
}

// TESTING.md case 1: after closing is observed, 8 goroutines hammering Acquire get 0
// successes, all ErrRundown.
func TestRundownAcquireAfterCloseFails(t *testing.T) {
	forEach(t, func(t *testing.T, newG func() guard) {
		g := newG()
		require.True(t, g.Begin())
		var ok, refused atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 1000 {
					if err := g.TryAcquire(); err == nil {
						ok.Add(1)
						g.Release()
					} else {
						assert.ErrorIs(t, err, ErrRundown)
						refused.Add(1)
					}
				}
			})
		}
		wg.Wait()
		require.Zero(t, ok.Load())
		require.Equal(t, int64(8000), refused.Load())
		require.True(t, g.Done())
	})
}

// TESTING.md case 2: Wait returns only after the last of K releases (checked by ordering).
func TestRundownCloseWaitsForInFlight(t *testing.T) {
	forEach(t, func(t *testing.T, newG func() guard) {
		const k = 5
		g := newG()
		require.True(t, g.AcquireN(k))
		var released atomic.Int32
		var sawReleased atomic.Int32
		done := make(chan struct{})
		go func() {
			defer close(done)
			assert.NoError(t, g.Wait(context.Background()))
			sawReleased.Store(released.Load())
		}()
		for !g.Active() {
			time.Sleep(time.Millisecond)
		}
		for i := range k {
			select {
			case <-done:
				t.Fatalf("Wait returned with %d refs still held", k-i)
			default:
			}
			released.Add(1)
			g.Release()
		}
		<-done
		require.Equal(t, int32(k), sawReleased.Load())
	})
}

// TESTING.md case 3: 8 concurrent Waits (plus WaitFuncs) all return; callbacks run once.
func TestRundownCloseIdempotentManyWaiters(t *testing.T) {
	forEach(t, func(t *testing.T, newG func() guard) {
		g := newG()
		require.True(t, g.Acquire())
		var wg sync.WaitGroup
		var returned, ran atomic.Int32
		for range 8 {
			wg.Go(func() {
				assert.NoError(t, g.Wait(context.Background()))
				returned.Add(1)
			})
			g.WaitFunc(func() { ran.Add(1) })
		}
		for !g.Active() {
			time.Sleep(time.Millisecond)
		}
		require.Zero(t, returned.Load())
		g.Release()
		wg.Wait()
		require.Equal(t, int32(8), returned.Load())
		require.Equal(t, int32(8), ran.Load())
		g.WaitFunc(func() { ran.Add(1) }) // after drain: runs at once on the caller
		require.Equal(t, int32(9), ran.Load())
	})
}

// TESTING.md case 4: an unbalanced release panics in verifier mode, is clamped and counted
// otherwise. Sharded detects it once rundown is active (see Sharded doc), so the shared
// test releases on an active guard; TestRundownUnbalancedIdle covers the idle word.
func TestRundownUnbalancedReleaseDetected(t *testing.T) {
	forEach(t, func(t *testing.T, newG func() guard) {
		t.Run("verifier", func(t *testing.T) {
			withVerifier(t, true)
			g := newG()
			require.True(t, g.Acquire())
			g.Begin()
			g.Release()
			require.True(t, g.Done())
			require.PanicsWithValue(t, msgUnbalanced, g.Release)
			require.Zero(t, g.Count())
			require.True(t, g.Done())
		})
		t.Run("normal", func(t *testing.T) {
			withVerifier(t, false)
			g := newG()
			require.True(t, g.Acquire())
			var ran atomic.Int32
			g.WaitFunc(func() { ran.Add(1) })
			before := UnbalancedReleases()
			g.ReleaseN(2) // one too many
			require.Equal(t, before+2, UnbalancedReleases(), "whole request refused and counted")
			require.Equal(t, 1, g.Count(), "clamped: state unchanged")
			g.Release()
			require.Equal(t, int32(1), ran.Load())
			before = UnbalancedReleases()
			g.Release()
			require.Equal(t, before+1, UnbalancedReleases())
			require.Zero(t, g.Count())
			require.Equal(t, int32(1), ran.Load())
		})
	})
}

func TestRundownUnbalancedIdle(t *testing.T) {
	withVerifier(t, false)
	var r Rundown
	before := UnbalancedReleases()
	r.Release()
	require.Equal(t, before+1, UnbalancedReleases())
	require.Zero(t, r.Count())
	require.True(t, r.Acquire())
	r.Release()
	withVerifier(t, true)
	require.PanicsWithValue(t, msgUnbalanced, r.Release)
	require.NoError(t, r.Wait(context.Background()))
}

// TESTING.md case 5: overflow is ErrOverflow, never a panic; the guard stays usable.
func TestRundownOverflowIsAnError(t *testing.T) {
	forEach(t, func(t *testing.T, newG func() guard) {
		g := newG()
		require.True(t, g.Acquire())
		require.ErrorIs(t, g.TryAcquireN(MaxRefs+1), ErrOverflow)
		require.False(t, g.AcquireN(MaxRefs+1))
		require.Equal(t, 1, g.Count())
		require.True(t, g.Acquire(), "still usable")
		g.ReleaseN(2)
		require.NoError(t, g.Wait(context.Background()))
	})
}

func TestRundownOverflowAtLimit(t *testing.T) {
	var r Rundown
	require.True(t, r.AcquireN(MaxRefs))
	require.ErrorIs(t, r.TryAcquire(), ErrOverflow)
	require.False(t, r.Acquire())
	require.Equal(t, MaxRefs, r.Count())
	r.ReleaseN(MaxRefs)
	require.True(t, r.Acquire())
	r.Release()
	require.True(t, r.Begin())
}

// Close from inside a held reference: WaitFunc never blocks and its callback runs on
// the final Release (close from a completion routine).
func TestWaitFuncReentrantClose(t *testing.T) {
	forEach(t, func(t *testing.T, newG func() guard) {
		g := newG()
		require.True(t, g.Acquire())
		var ran atomic.Int32
		func() { // a call holding a reference closes its own object
			require.True(t, g.Acquire())
			defer g.Release()
			g.WaitFunc(func() {
				ran.Add(1)
				assert.False(t, g.Acquire(), "no acquire inside the teardown")
			})
			require.Zero(t, ran.Load())
		}()
		require.Zero(t, ran.Load())
		g.Release()
		require.Equal(t, int32(1), ran.Load())
		require.True(t, g.Done())
	})
}

func TestReInitCycles(t *testing.T) {
	forEach(t, func(t *testing.T, newG func() guard) {
		g := newG()
		for i := range 3 {
			require.True(t, g.Acquire(), "cycle %d", i)
			require.ErrorIs(t, g.ReInit(), ErrNotRunDown)
			g.WaitFunc(nil)
			require.False(t, g.Done())
			g.Release()
			require.True(t, g.Done())
			require.NoError(t, g.ReInit())
			require.False(t, g.Done())
		}
	})
}
