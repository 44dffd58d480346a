package irp

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var benchDev = &Device{Name: "bench"}

func mprRoutine(*Device, *IRP, any) Status { return MoreProcessingRequired }

func cycle() {
	i := Allocate(1)
	i.SetCompletionRoutine(mprRoutine, nil, InvokeAlways)
	i.Enter(benchDev)
	i.Complete(Success, 1)
	i.Free()
}

func TestCycleZeroAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("coverage instrumentation / race-mode sync.Pool allocate")
	}
	cycle() // warm the pool
	allocs := testing.AllocsPerRun(1000, cycle)
	require.Zero(t, allocs, "allocate/set/enter/complete/free must not allocate")

	cancelCycle := func() {
		i := Allocate(1)
		i.SetCompletionRoutine(mprRoutine, nil, InvokeAlways)
		i.Enter(benchDev)
		i.SetCancelRoutine(cancelToCompletion)
		i.Cancel()
		i.Free()
	}
	cancelCycle()
	require.Zero(t, testing.AllocsPerRun(1000, cancelCycle), "set/swap of the cancel routine must not allocate")
}

func cancelToCompletion(i *IRP) { i.Complete(Cancelled, 0) }

func TestPoolKeepsStackSize(t *testing.T) {
	for _, n := range []int{0, 1, 2, 8, 9, 17} {
		i := Allocate(n)
		require.Equal(t, n, i.StackCount())
		require.Equal(t, n+1, i.CurrentLocation())
		i.Free()
	}
	require.Equal(t, 0, Allocate(-3).StackCount())
}

func BenchmarkIRPCycle(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		cycle()
	}
}

// BenchmarkIRPCycleVsRWMutex puts the IRP cycle next to its reference in one run: an
// uncontended sync.RWMutex RLock+RUnlock pair (the project's goal: the cycle costs at
// most five of them, with no allocation). Run it with -cpu 1.
func BenchmarkIRPCycleVsRWMutex(b *testing.B) {
	b.Run("cycle", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			cycle()
		}
	})
	var rw sync.RWMutex
	b.Run("rwmutex", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			// The empty read section is the point: it measures the lock's own cost.
			rw.RLock()
			//lint:ignore SA2001 baseline for the IRP cycle
			rw.RUnlock()
		}
	})
}

// BenchmarkIRPCycleRatio measures the same two in alternating slices of 1000 operations,
// so that both see the same load on a shared machine, and reports the ratio (the goal: at
// most 5) beside each one's time. Run it with -cpu 1.
func BenchmarkIRPCycleRatio(b *testing.B) {
	const slice = 1000
	var rw sync.RWMutex
	var inCycle, inPair time.Duration
	ops := 0
	b.ReportAllocs()
	for ; ops < b.N; ops += slice {
		t0 := time.Now()
		for range slice {
			cycle()
		}
		t1 := time.Now()
		for range slice {
			rw.RLock()
			//lint:ignore SA2001 baseline for the IRP cycle
			rw.RUnlock()
		}
		inCycle += t1.Sub(t0)
		inPair += time.Since(t1)
	}
	b.ReportMetric(float64(inCycle)/float64(inPair), "cycle/rwmutex")
	b.ReportMetric(float64(inCycle.Nanoseconds())/float64(ops), "cycle-ns/op")
	b.ReportMetric(float64(inPair.Nanoseconds())/float64(ops), "rwmutex-ns/op")
}

func BenchmarkIRPCycleParallel(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			cycle()
		}
	})
}

func BenchmarkCancel(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		i := Allocate(1)
		i.SetCompletionRoutine(mprRoutine, nil, InvokeAlways)
		i.Enter(benchDev)
		i.SetCancelRoutine(cancelToCompletion)
		i.Cancel()
		i.Free()
	}
}
