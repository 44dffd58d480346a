package irp

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCancelSemantics is invariants 16 and 17.
func TestCancelSemantics(t *testing.T) {
	i := Allocate(1)
	defer i.Free()
	require.Equal(t, Success, i.Enter(devA))

	// No routine: flag set, false returned.
	require.False(t, i.Cancel())
	require.True(t, i.Cancelled())

	runs := 0
	r := func(ir *IRP) { runs++; ir.Complete(Cancelled, 0) }
	require.Nil(t, i.SetCancelRoutine(r))
	require.True(t, i.Cancel())
	require.False(t, i.Cancel(), "routine runs at most once")
	require.Equal(t, 1, runs)
	require.Equal(t, Cancelled, i.IoStatus.Status)
	// Invariant 17: the provider's exchange now returns nil: it must not complete.
	require.Nil(t, i.SetCancelRoutine(nil))
}

func TestSetCancelRoutineExchange(t *testing.T) {
	i := Allocate(1)
	defer i.Free()
	n := 0
	r1 := func(*IRP) { n = 1 }
	r2 := func(*IRP) { n = 2 }
	require.Nil(t, i.SetCancelRoutine(r1))
	old := i.SetCancelRoutine(r2)
	require.NotNil(t, old)
	old(i)
	require.Equal(t, 1, n)
	require.NotNil(t, i.SetCancelRoutine(nil))
	require.Nil(t, i.SetCancelRoutine(nil))
}

// fakeProvider is a one-slot queue whose cancel routine removes the IRP under the
// provider's lock, as a cancel-safe queue does.
type fakeProvider struct {
	mu sync.Mutex
	q  *IRP
}

func (p *fakeProvider) cancelRoutine(i *IRP) {
	p.mu.Lock()
	mine := p.q == i
	if mine {
		p.q = nil
	}
	p.mu.Unlock()
	if mine {
		i.Complete(Cancelled, 0)
	}
}

func (p *fakeProvider) submit(i *IRP) Status {
	if st := i.Enter(devB); st != Success {
		return st
	}
	i.MarkPending()
	p.mu.Lock()
	p.q = i
	p.mu.Unlock()
	i.SetCancelRoutine(p.cancelRoutine)
	if i.Cancelled() && i.SetCancelRoutine(nil) != nil {
		p.cancelRoutine(i)
	}
	return Pending
}

// finish completes the queued IRP, if it is still queued.
func (p *fakeProvider) finish() {
	p.mu.Lock()
	i := p.q
	p.q = nil
	p.mu.Unlock()
	if i != nil {
		i.SetCancelRoutine(nil)
		i.Complete(Success, 1)
	}
}

// TestCancelLockRace is invariant 18: randomized cancel-vs-complete races under the
// IRPLOCK protocol; every IRP is freed exactly once, by whichever side is last.
func TestCancelLockRace(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 2000
	}
	var byCompletion, byCanceller, okStatus, cancelledStatus atomic.Int64
	before := ReadStats()
	for k := range n {
		var l CancelLock
		var frees atomic.Int32
		p := &fakeProvider{}
		i := Allocate(1)
		var final Status
		done := make(chan struct{}, 2)
		i.SetCompletionRoutine(func(_ *Device, ir *IRP, _ any) Status {
			final = ir.IoStatus.Status
			if l.Completed() {
				frees.Add(1)
				byCompletion.Add(1)
				ir.Free()
			}
			return MoreProcessingRequired
		}, nil, InvokeAlways)
		require.Equal(t, Pending, p.submit(i))
		finish := func() { p.finish() }
		cancel := func() {
			if l.Cancel(i) {
				frees.Add(1)
				byCanceller.Add(1)
				i.Free()
			}
		}
		// Pin each ordering on one iteration in four so both who-frees outcomes are
		// certain; race the rest behind a gate with varied yields (without one the race
		// barely happens).
		switch k % 4 {
		case 0:
			finish()
			cancel()
		case 1:
			cancel()
			finish()
		default:
			gate := make(chan struct{})
			go func() { <-gate; yield(rand.IntN(3)); finish(); done <- struct{}{} }()
			go func() { <-gate; yield(rand.IntN(3)); cancel(); done <- struct{}{} }()
			close(gate)
			<-done
			<-done
		}
		require.Equal(t, int32(1), frees.Load(), "each IRP freed exactly once")
		switch final {
		case Success:
			okStatus.Add(1)
		case Cancelled:
			cancelledStatus.Add(1)
		default:
			t.Fatalf("unexpected status %v", final)
		}
	}
	after := ReadStats()
	require.Equal(t, after.Freed-before.Freed, after.Allocated-before.Allocated)
	require.Equal(t, after.Completed-before.Completed, after.Submitted-before.Submitted)
	require.Positive(t, byCompletion.Load(), "completion-side free observed")
	require.Positive(t, byCanceller.Load(), "canceller-side free observed")
	require.Positive(t, okStatus.Load(), "completion-first ordering observed")
	require.Positive(t, cancelledStatus.Load(), "cancel-first ordering observed")
}

// TestCancelStress is an fdMutex-style stress: many goroutines race Cancel against
// Complete on their own IRPs; the owner waits for both before freeing.
func TestCancelStress(t *testing.T) {
	workers, iters := 8, 1000
	if testing.Short() {
		iters = 200
	}
	var cancelTrue, cancelFalse, stSuccess, stCancelled atomic.Int64
	before := ReadStats()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for n := range iters {
				p := &fakeProvider{}
				i := Allocate(2)
				var calls atomic.Int32
				var final Status
				sig := make(chan struct{})
				i.SetCompletionRoutine(func(_ *Device, ir *IRP, _ any) Status {
					calls.Add(1)
					final = ir.IoStatus.Status
					close(sig)
					return MoreProcessingRequired
				}, nil, InvokeAlways)
				if !assert.Equal(t, Success, i.Enter(devA)) {
					return
				}
				p.submit(i)
				cancel := func() {
					if i.Cancel() {
						cancelTrue.Add(1)
					} else {
						cancelFalse.Add(1)
					}
				}
				// Without a start gate and varied placement the two sides barely ever
				// interleave. One iteration in four pins each
				// ordering so every outcome is certain to occur; the rest race behind a
				// gate with a varying number of yields on each side.
				switch n % 4 {
				case 0:
					cancel()
					p.finish()
				case 1:
					p.finish()
					cancel()
				default:
					gate := make(chan struct{})
					var inner sync.WaitGroup
					inner.Go(func() { <-gate; yield(n % 3); cancel() })
					inner.Go(func() { <-gate; yield(n % 5); p.finish() })
					close(gate)
					inner.Wait()
				}
				<-sig
				assert.Equal(t, int32(1), calls.Load(), "completed exactly once")
				if final == Success {
					stSuccess.Add(1)
				} else if assert.Equal(t, Cancelled, final) {
					stCancelled.Add(1)
				}
				i.Free()
			}
		})
	}
	wg.Wait()
	after := ReadStats()
	require.Equal(t, after.Submitted-before.Submitted, after.Completed-before.Completed, "submitted == completed")
	require.Equal(t, uint64(workers*iters), after.Completed-before.Completed)
	require.Positive(t, cancelTrue.Load(), "Cancel found a routine")
	require.Positive(t, cancelFalse.Load(), "Cancel found none")
	require.Positive(t, stSuccess.Load(), "completed normally")
	require.Positive(t, stCancelled.Load(), "completed as cancelled")
}

func TestCancelLockOrderings(t *testing.T) {
	var l CancelLock
	require.True(t, l.Completed(), "no cancel: completion finishes")
	require.False(t, l.Cancel(Allocate(0)), "cancel after completion does nothing")

	l.Reset()
	i := Allocate(1)
	i.SetCancelRoutine(func(*IRP) {
		require.False(t, l.Completed(), "completion during cancel: canceller finishes")
	})
	require.True(t, l.Cancel(i))
	require.Equal(t, CancelComplete, l.State())
	i.Free()

	l.Reset()
	j := Allocate(1)
	require.False(t, l.Cancel(j), "cancel returns first")
	require.True(t, l.Completed())
	j.Free()
}

func TestCancelLockDoubleCompletion(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		var l CancelLock
		require.True(t, l.Completed())
		var second bool
		expectViolation(t, "MULTIPLE_IRP_COMPLETE_REQUESTS", func() { second = l.Completed() })
		require.False(t, second)
	})
}

// yield gives up the processor n times, to vary where a racing side starts.
func yield(n int) {
	for range n {
		runtime.Gosched()
	}
}
