package refcount

import (
	"context"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stressStats are the invariant counters of one fdMutex-style stress run.
type stressStats struct {
	acquires, releases, refused atomic.Int64
	// violations counts references granted after rundown was observed to begin, or
	// seen while the object was already torn down: the exactly-once teardown broke.
	violations atomic.Int64
	teardowns  atomic.Int64
}

// stressRundown runs p goroutines × n random acquire/release steps while a closer runs
// the rundown at a random point, then tears the "object" down once Wait returns.
func stressRundown(t *testing.T, g guard, p, n int) *stressStats {
	st := new(stressStats)
	var begun, freed atomic.Bool
	var ops atomic.Int64
	target := rand.Int64N(int64(p*n) / 2)

	var wg sync.WaitGroup
	wg.Go(func() { // the closer
		for ops.Load() < target {
			runtime.Gosched()
		}
		// The teardown runs on the drain itself (the last releaser's goroutine), so a
		// reference granted after it is seen at once.
		g.WaitFunc(func() {
			st.teardowns.Add(1)
			freed.Store(true)
		})
		begun.Store(true)
		assert.NoError(t, g.Wait(context.Background()))
		assert.True(t, freed.Load(), "Wait returned before the teardown ran")
	})
	for range p {
		wg.Go(func() {
			held, afterBegun := 0, 0
			// Run n steps, and keep going until a few steps ran after rundown began,
			// so that both outcomes are always exercised (bounded: the closer runs).
			for i := 0; i < n || afterBegun < 10; i++ {
				ops.Add(1)
				if begun.Load() {
					afterBegun++
				}
				if held > 0 && (held >= 3 || rand.IntN(2) == 0) {
					if freed.Load() || g.Done() {
						st.violations.Add(1) // a granted ref outlived the drain
					}
					held--
					st.releases.Add(1)
					g.Release()
					continue
				}
				wasBegun := begun.Load()
				if g.Acquire() {
					st.acquires.Add(1)
					held++
					// Done while we hold a reference means the drain ignored it.
					if wasBegun || freed.Load() || g.Done() {
						st.violations.Add(1)
					}
				} else {
					st.refused.Add(1)
				}
			}
			for ; held > 0; held-- {
				if freed.Load() || g.Done() {
					st.violations.Add(1)
				}
				st.releases.Add(1)
				g.Release()
			}
		})
	}
	wg.Wait()
	return st
}

func stressN() int {
	if testing.Short() {
		return 2000
	}
	return 20000
}

// TESTING.md case 6: RundownStress.
func TestRundownStress(t *testing.T) {
	forEach(t, func(t *testing.T, newG func() guard) {
		for range 3 {
			g := newG()
			st := stressRundown(t, g, 8, stressN())
			require.Zero(t, st.violations.Load(), "acquire granted after rundown began")
			require.Equal(t, st.acquires.Load(), st.releases.Load())
			require.Positive(t, st.acquires.Load(), "acquired outcome observed")
			require.Positive(t, st.refused.Load(), "refused outcome observed")
			require.Equal(t, int64(1), st.teardowns.Load(), "teardown exactly once")
			require.True(t, g.Done())
			require.Zero(t, g.Count())
		}
	})
}

// brokenRundown is a deliberate mutant: Acquire checks the active bit and then adds, as
// two steps. A rundown can begin and complete in between, granting a reference to a
// torn-down object. The stress harness must catch it.
type brokenRundown struct{ Rundown }

func (b *brokenRundown) Acquire() bool { return b.TryAcquire() == nil }

func (b *brokenRundown) TryAcquire() error {
	if b.state.Load()&stActive != 0 {
		return ErrRundown
	}
	// Widen the window the real Acquire closes with one atomic add. A goroutine that
	// is preempted here while a close begins stays parked until the close completed
	// (bounded), the worst schedule the real race allows, so the mutant is caught
	// reliably instead of by luck.
	for i := 0; i < 8 || (b.Active() && !b.Done() && i < 10000); i++ {
		runtime.Gosched()
	}
	b.state.Add(1)
	return nil
}

func TestStressCatchesBrokenAcquire(t *testing.T) {
	caught := 0
	for run := range 20 {
		st := stressRundown(t, new(brokenRundown), 8, stressN())
		if v := st.violations.Load(); v > 0 {
			caught++
			t.Logf("run %d: mutant caught, %d references granted after rundown began", run, v)
			break
		}
	}
	require.Positive(t, caught, "the stress harness never caught a check-then-add acquire")
}
