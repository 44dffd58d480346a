package irp

import (
	"testing"

	"github.com/stretchr/testify/require"
)

var (
	devA = &Device{Name: "A"}
	devB = &Device{Name: "B"}
	devC = &Device{Name: "C"}
)

func TestNumbering(t *testing.T) {
	i := Allocate(2)
	defer i.Free()
	require.Equal(t, 2, i.StackCount())
	require.Equal(t, 3, i.CurrentLocation())
	require.Equal(t, Success, i.Enter(devA))
	require.Equal(t, 2, i.CurrentLocation())
	require.Equal(t, Success, i.Enter(devB))
	require.Equal(t, 1, i.CurrentLocation())
	i.Complete(Success, 0)
	require.Equal(t, 3, i.CurrentLocation())
}

// TestWalkOrderAndMPR is invariant 13: innermost first, MPR stops, a later
// CompleteRequest resumes above the stopping point.
func TestWalkOrderAndMPR(t *testing.T) {
	i := Allocate(3)
	defer i.Free()
	var order []string
	var devs []*Device
	rec := func(name string, ret Status) CompletionRoutine {
		return func(dev *Device, ir *IRP, ctx any) Status {
			order = append(order, name+":"+ctx.(string))
			devs = append(devs, dev)
			return ret
		}
	}
	// The owner sits above the stack; each layer sets its routine in the next
	// location, then the callee enters that location.
	i.SetCompletionRoutine(rec("top", ContinueCompletion), "owner", InvokeAlways) // location 3
	require.Equal(t, Success, i.Enter(devA))                                      // A owns 3
	i.SetCompletionRoutine(rec("mid", MoreProcessingRequired), "A", InvokeAlways) // location 2
	require.Equal(t, Success, i.Enter(devB))                                      // B owns 2
	i.SetCompletionRoutine(rec("low", ContinueCompletion), "B", InvokeAlways)     // location 1
	require.Equal(t, Success, i.Enter(devC))                                      // C owns 1
	i.Complete(Success, 7)
	require.Equal(t, []string{"low:B", "mid:A"}, order, "walk must stop at MPR")
	require.Equal(t, []*Device{devB, devA}, devs)
	require.Equal(t, 3, i.CurrentLocation())
	i.CompleteRequest() // resume above the routine that stopped
	require.Equal(t, []string{"low:B", "mid:A", "top:owner"}, order)
	require.Equal(t, []*Device{devB, devA, nil}, devs, "top routine gets nil device")
	require.Equal(t, uintptr(7), i.IoStatus.Information)
}

// TestInvokeMask is invariant 14 and the SPEC.md §4.4 predicate.
func TestInvokeMask(t *testing.T) {
	cases := []struct {
		name   string
		when   Invoke
		status Status
		cancel bool
		runs   bool
	}{
		{"success/OnSuccess", InvokeOnSuccess, Success, false, true},
		{"error/OnSuccess", InvokeOnSuccess, Cancelled, false, false},
		{"error/OnError", InvokeOnError, ConnectionReset, false, true},
		{"success/OnError", InvokeOnError, Success, false, false},
		{"success/OnCancel no cancel", InvokeOnCancel, Success, false, false},
		{"success/OnCancel cancel set", InvokeOnCancel, Success, true, true},
		{"warning/OnError", InvokeOnError, BufferOverflow, false, true},
		{"informational/OnSuccess", InvokeOnSuccess, EventPending, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			i := Allocate(1)
			defer i.Free()
			ran := false
			i.SetCompletionRoutine(func(*Device, *IRP, any) Status {
				ran = true
				return MoreProcessingRequired
			}, nil, c.when)
			require.Equal(t, Success, i.Enter(devA))
			if c.cancel {
				require.False(t, i.Cancel())
			}
			i.Complete(c.status, 0)
			require.Equal(t, c.runs, ran)
		})
	}
}

func TestPendingReturnedCarried(t *testing.T) {
	i := Allocate(2)
	defer i.Free()
	var seen []bool
	i.SetCompletionRoutine(func(_ *Device, ir *IRP, _ any) Status {
		seen = append(seen, ir.PendingReturned())
		return MoreProcessingRequired
	}, nil, InvokeAlways)
	require.Equal(t, Success, i.Enter(devA))
	// A forwards without a routine; B marks pending. The mark must reach location 2.
	require.Equal(t, Success, i.Enter(devB))
	i.MarkPending()
	i.Complete(Success, 0)
	require.Equal(t, []bool{true}, seen)

	i.Reuse(Success)
	seen = nil
	i.SetCompletionRoutine(func(_ *Device, ir *IRP, _ any) Status {
		seen = append(seen, ir.PendingReturned())
		return MoreProcessingRequired
	}, nil, InvokeAlways)
	require.Equal(t, Success, i.Enter(devA))
	i.Complete(Success, 0) // not marked
	require.Equal(t, []bool{false}, seen)
}

// TestRejections is invariant 15 (and 0x35 of invariant 20), verifier off and on.
func TestRejections(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		t.Run("double completion", func(t *testing.T) {
			i := Allocate(1)
			calls := 0
			i.SetCompletionRoutine(func(*Device, *IRP, any) Status { calls++; return MoreProcessingRequired }, nil, InvokeAlways)
			require.Equal(t, Success, i.Enter(devA))
			i.Complete(Success, 5)
			expectViolation(t, "MULTIPLE_IRP_COMPLETE_REQUESTS", func() { i.Complete(ConnectionReset, 9) })
			require.Equal(t, 1, calls)
			require.Equal(t, Success, i.IoStatus.Status, "second completion must not clobber IoStatus")
			require.Equal(t, uintptr(5), i.IoStatus.Information)
			i.Free()
		})
		t.Run("pending final status", func(t *testing.T) {
			i := Allocate(1)
			require.Equal(t, Success, i.Enter(devA))
			expectViolation(t, "IRP_COMPLETED_WITH_STATUS_PENDING", func() { i.Complete(Pending, 0) })
			i.Complete(Success, 0) // still completable properly
			i.Free()
		})
		t.Run("cancel routine still set", func(t *testing.T) {
			i := Allocate(1)
			require.Equal(t, Success, i.Enter(devA))
			ranCancel := false
			i.SetCancelRoutine(func(*IRP) { ranCancel = true })
			completed := false
			i.stack[0].routine = func(*Device, *IRP, any) Status { completed = true; return MoreProcessingRequired }
			i.stack[0].control = InvokeAlways
			expectViolation(t, "CANCEL_STATE_IN_COMPLETED_IRP", func() { i.Complete(Success, 0) })
			if !Verifier() {
				require.True(t, completed)
				require.False(t, i.Cancel(), "routine removed by the safe action")
				require.False(t, ranCancel)
			} else {
				i.SetCancelRoutine(nil)
				i.Complete(Success, 0)
			}
			i.Free()
		})
		t.Run("free pending", func(t *testing.T) {
			i := Allocate(1)
			require.Equal(t, Success, i.Enter(devA))
			expectViolation(t, "IRP_FREED_WHILE_PENDING", func() { i.Free() })
			i.Complete(Success, 0)
			i.Free()
		})
		t.Run("no stack location", func(t *testing.T) {
			i := Allocate(0)
			expectViolation(t, "NO_MORE_IRP_STACK_LOCATIONS", func() {
				i.SetCompletionRoutine(func(*Device, *IRP, any) Status { return ContinueCompletion }, nil, InvokeAlways)
			})
			var st Status
			expectViolation(t, "NO_MORE_IRP_STACK_LOCATIONS", func() { st = i.Enter(devA) })
			if !Verifier() {
				require.Equal(t, InvalidParameter, st)
			}
			i.Free()
		})
		t.Run("double free", func(t *testing.T) {
			i := Allocate(1)
			i.Free()
			expectViolation(t, "IRP_USED_AFTER_FREE", func() { i.Free() })
		})
	})
}

// TestReuse is invariant 19.
func TestReuse(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		i := Allocate(2)
		require.Equal(t, Success, i.Enter(devA))
		i.MarkPending()
		expectViolation(t, "IRP_REUSED_WHILE_PENDING", func() { i.Reuse(Success) })
		require.Equal(t, 2, i.CurrentLocation(), "refused reuse must not reset")
		i.Cancel()
		i.Complete(Cancelled, 3)
		i.SetCancelRoutine(func(*IRP) {})
		expectViolation(t, "IRP_REUSED_WITH_CANCEL_ROUTINE", func() { i.Reuse(Success) })
		i.SetCancelRoutine(nil)
		stack := &i.stack[0]
		i.Reuse(InvalidDeviceState)
		require.Same(t, stack, &i.stack[0], "allocation kept")
		require.Equal(t, 3, i.CurrentLocation())
		require.Equal(t, IoStatusBlock{Status: InvalidDeviceState}, i.IoStatus)
		require.False(t, i.Cancelled())
		require.False(t, i.PendingReturned())
		require.Equal(t, location{}, i.stack[0])
		require.Equal(t, location{}, i.stack[1])
		i.Free()
	})
}

// TestOneLocationNilDevice is invariant 20's second half.
func TestOneLocationNilDevice(t *testing.T) {
	i := Allocate(1)
	defer i.Free()
	got := devA
	i.SetCompletionRoutine(func(dev *Device, _ *IRP, _ any) Status {
		got = dev
		return MoreProcessingRequired
	}, nil, InvokeAlways)
	require.Equal(t, Success, i.Enter(devB))
	i.CompleteObject(Success, 0, "socket")
	require.Nil(t, got)
	require.Equal(t, "socket", i.IoStatus.Object)
}

func TestStatsBalance(t *testing.T) {
	before := ReadStats()
	i := Allocate(1)
	require.Equal(t, Success, i.Enter(devA))
	mid := ReadStats()
	require.Equal(t, before.Submitted+1, mid.Submitted)
	i.Complete(Success, 0)
	i.Free()
	after := ReadStats()
	require.Equal(t, before.Allocated+1, after.Allocated)
	require.Equal(t, before.Freed+1, after.Freed)
	require.Equal(t, after.Submitted-before.Submitted, after.Completed-before.Completed)
}

// TestCompleteWithoutEnter: a callee that refuses a call before entering the IRP
// still runs the owner's routine (invariant 9: completed exactly once).
func TestCompleteWithoutEnter(t *testing.T) {
	i := Allocate(1)
	defer i.Free()
	runs := 0
	i.SetCompletionRoutine(func(dev *Device, _ *IRP, _ any) Status {
		runs++
		require.Nil(t, dev)
		return MoreProcessingRequired
	}, nil, InvokeAlways)
	before := ReadStats()
	i.Complete(InvalidHandle, 0)
	after := ReadStats()
	require.Equal(t, 1, runs)
	require.Equal(t, before.Submitted+1, after.Submitted)
	require.Equal(t, before.Completed+1, after.Completed)
	bothModes(t, func(t *testing.T) {
		expectViolation(t, "MULTIPLE_IRP_COMPLETE_REQUESTS", func() { i.Complete(Success, 0) })
	})
	require.Equal(t, 1, runs)
}
