package irp

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statsDelta is after - before, field by field (Pending as a signed difference).
type statsDelta struct{ allocated, freed, submitted, completed, pending int64 }

func delta(before, after Stats) statsDelta {
	return statsDelta{
		allocated: int64(after.Allocated - before.Allocated),
		freed:     int64(after.Freed - before.Freed),
		submitted: int64(after.Submitted - before.Submitted),
		completed: int64(after.Completed - before.Completed),
		pending:   int64(after.Pending) - int64(before.Pending),
	}
}

// checkSnapshot asserts what every snapshot promises (Stats doc), on its own and against
// an earlier one.
func checkSnapshot(t assert.TestingT, prev, s Stats) bool {
	return assert.Equal(t, s.Submitted, s.Completed+s.Pending, "submitted == completed + pending") &&
		assert.LessOrEqual(t, s.Freed, s.Allocated, "freed <= allocated") &&
		assert.GreaterOrEqual(t, s.Allocated, prev.Allocated, "allocated only grows") &&
		assert.GreaterOrEqual(t, s.Freed, prev.Freed, "freed only grows") &&
		assert.GreaterOrEqual(t, s.Submitted, prev.Submitted, "submitted only grows") &&
		assert.GreaterOrEqual(t, s.Completed, prev.Completed, "completed only grows")
}

// runCycles has g goroutines run n cycles each (allocate, set a routine, enter, complete,
// free) while one more goroutine reads snapshots until they finish, checking each. It
// returns the delta of the counters over the whole run.
func runCycles(t *testing.T, g, n int) statsDelta {
	t.Helper()
	before := ReadStats()
	var wg sync.WaitGroup
	var routines atomic.Int64
	for range g {
		wg.Go(func() {
			for range n {
				i := Allocate(1)
				i.SetCompletionRoutine(func(*Device, *IRP, any) Status {
					routines.Add(1)
					return MoreProcessingRequired
				}, nil, InvokeAlways)
				if !assert.Equal(t, Success, i.Enter(devA)) {
					return
				}
				i.Complete(Success, 0)
				i.Free()
			}
		})
	}
	done := make(chan struct{})
	var reads atomic.Int64
	var reader sync.WaitGroup
	reader.Go(func() {
		prev := before
		for {
			s := ReadStats()
			reads.Add(1)
			if !checkSnapshot(t, prev, s) {
				return
			}
			prev = s
			select {
			case <-done:
				return
			default:
				runtime.Gosched()
			}
		}
	})
	wg.Wait()
	close(done)
	reader.Wait()
	require.Positive(t, reads.Load(), "the reader took snapshots during the run")
	require.EqualValues(t, g*n, routines.Load(), "every cycle ran its routine once")
	after := ReadStats()
	checkSnapshot(t, before, after)
	return delta(before, after)
}

// TestStatsSumExactlyUnderConcurrency: the counts kept in each IRP's state word sum to
// exactly the cycles run, from many goroutines at once, with snapshots taken meanwhile
// keeping the Stats invariants.
func TestStatsSumExactlyUnderConcurrency(t *testing.T) {
	g, n := 16, 2000
	if testing.Short() {
		n = 300
	}
	want := int64(g * n)
	require.Equal(t, statsDelta{want, want, want, want, 0}, runCycles(t, g, n))
}

// setLimits lowers the flush limits for one test, so the flush paths run every few
// transitions. Hot paths read the limits, so set them only with no IRP traffic running.
func setLimits(t *testing.T, allocs, subs uint64) {
	oldA, oldS := allocLimit, subLimit
	allocLimit, subLimit = allocs<<allocShift, subs<<subShift
	t.Cleanup(func() { allocLimit, subLimit = oldA, oldS })
}

// TestStatsFlushKeepsSums: with the per-IRP fields flushed into the retired counts every
// few transitions (as they are, at full width, once in 2^30 allocations of one IRP), the
// sums stay exact and every snapshot consistent.
func TestStatsFlushKeepsSums(t *testing.T) {
	setLimits(t, 3, 2)
	g, n := 8, 1000
	if testing.Short() {
		n = 200
	}
	want := int64(g * n)
	require.Equal(t, statsDelta{want, want, want, want, 0}, runCycles(t, g, n))

	// One IRP, sent down again after its routine stopped the walk: several submissions
	// per allocation, each flush with one submission still pending or not.
	before := ReadStats()
	i := Allocate(1)
	for k := range 7 {
		i.SetCompletionRoutine(mprRoutine, nil, InvokeAlways)
		require.Equal(t, Success, i.Enter(devA))
		require.Equal(t, statsDelta{1, 0, int64(k + 1), int64(k), 1}, delta(before, ReadStats()), "submission %d pending", k+1)
		i.Complete(Success, 0)
		require.Equal(t, statsDelta{1, 0, int64(k + 1), int64(k + 1), 0}, delta(before, ReadStats()), "submission %d completed", k+1)
	}
	i.Free()
	require.Equal(t, statsDelta{1, 1, 7, 7, 0}, delta(before, ReadStats()))
}

// TestStatsSurviveCollection: IRPs that sync.Pool drops are collected, and their counts
// move into the retired totals; a leaked IRP, never completed nor freed, stays counted
// as live and pending after it is gone.
func TestStatsSurviveCollection(t *testing.T) {
	const n = 200
	before := ReadStats()
	cells := allocateAndDrop(t, n)
	want := statsDelta{n + 1, n, 1, 0, 1}
	require.Equal(t, want, delta(before, ReadStats()))

	// Two collections empty the pool (its victim cache survives one); cleanups then run
	// on their own goroutine, so wait for the cells to leave the registry, boundedly. The
	// cells do not point to their IRPs, so holding them keeps nothing alive.
	registered := func() (left int) {
		registry.mu.Lock()
		defer registry.mu.Unlock()
		for _, c := range cells {
			if c.idx < len(registry.cells) && registry.cells[c.idx] == c {
				left++
			}
		}
		return left
	}
	for k := 0; k < 100 && registered() > 0; k++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	require.Zero(t, registered(), "the collected IRPs' cells were retired")
	require.Equal(t, want, delta(before, ReadStats()), "counts unchanged by the collection")
}

// allocateAndDrop allocates n IRPs and frees them, and leaks one more that it entered,
// returning the cells of all n+1; no reference to the IRPs outlives the call.
func allocateAndDrop(t *testing.T, n int) []*stateCell {
	var cells []*stateCell
	for range n {
		i := Allocate(5)
		cells = append(cells, i.word())
		defer i.Free() // all held at once, so they are n distinct IRPs
	}
	leaked := Allocate(5)
	leaked.SetCompletionRoutine(mprRoutine, nil, InvokeAlways)
	require.Equal(t, Success, leaked.Enter(devA))
	return append(cells, leaked.word())
}

// TestZeroIRP: a declared IRP works as a freshly allocated one and is counted from its
// first use.
func TestZeroIRP(t *testing.T) {
	before := ReadStats()
	var i IRP
	require.Equal(t, 1, i.CurrentLocation())
	require.False(t, i.Cancel(), "no cancel routine")
	bothModes(t, func(t *testing.T) {
		expectViolation(t, "NO_MORE_IRP_STACK_LOCATIONS", func() { i.Enter(devA) })
	})
	i.Complete(InvalidHandle, 0) // completes without Enter, no location to walk
	require.Equal(t, InvalidHandle, i.IoStatus.Status)
	require.Equal(t, statsDelta{1, 0, 1, 1, 0}, delta(before, ReadStats()))
	bothModes(t, func(t *testing.T) {
		expectViolation(t, "MULTIPLE_IRP_COMPLETE_REQUESTS", func() { i.Complete(Success, 0) })
	})
	i.Free()
	require.Equal(t, statsDelta{1, 1, 1, 1, 0}, delta(before, ReadStats()))
}

// TestSetCompletionRoutineAfterFree: setting a routine on a freed IRP is refused, so the
// pooled IRP comes out of its next Allocate clean.
func TestSetCompletionRoutineAfterFree(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		i := Allocate(1)
		i.Free()
		expectViolation(t, "IRP_USED_AFTER_FREE", func() { i.SetCompletionRoutine(mprRoutine, "stale", InvokeAlways) })
		require.Nil(t, i.stack[0].routine, "the freed IRP was written")
	})
}
