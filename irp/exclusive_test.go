package irp

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// A device that holds an IRP through EnterExclusive refuses it a second time without
// touching it, and takes it again once the walk has passed its location.
func TestEnterExclusiveRefusesHeldIRP(t *testing.T) {
	withVerifier(t, false, func(t *testing.T) {
		before := ReadStats().Violations["IRP_SENT_WHILE_PENDING"]
		i := Allocate(1)
		var runs atomic.Int32
		i.SetCompletionRoutine(func(*Device, *IRP, any) Status {
			runs.Add(1)
			return MoreProcessingRequired
		}, nil, InvokeAlways)
		st, held := i.EnterExclusive(devA)
		require.Equal(t, Success, st)
		require.False(t, held)
		i.MarkPending()
		require.True(t, i.HeldExclusively(devA))

		st, held = i.EnterExclusive(devA) // the pending IRP sent again
		require.True(t, held)
		require.Equal(t, InvalidParameter, st)
		require.Equal(t, before+1, ReadStats().Violations["IRP_SENT_WHILE_PENDING"])
		require.EqualValues(t, 0, runs.Load(), "the refused submission touched the IRP")

		i.Complete(Success, 0) // the holder completes the original, once
		require.EqualValues(t, 1, runs.Load())
		require.False(t, i.HeldExclusively(devA), "the claim outlived the completion")

		i.Reuse(Success)
		i.SetCompletionRoutine(func(*Device, *IRP, any) Status { return MoreProcessingRequired }, nil, InvokeAlways)
		st, held = i.EnterExclusive(devA)
		require.Equal(t, Success, st)
		require.False(t, held)
		i.Complete(Success, 0)
		i.Free()
	})
}

func TestEnterExclusiveVerifierNamesBugCheck(t *testing.T) {
	withVerifier(t, true, func(t *testing.T) {
		i := Allocate(1)
		i.SetCompletionRoutine(func(*Device, *IRP, any) Status { return MoreProcessingRequired }, nil, InvokeAlways)
		_, _ = i.EnterExclusive(devA)
		require.PanicsWithValue(t, "irp: bug check 0xC9 IRP_SENT_WHILE_PENDING: IRP sent to "+devA.Name+" while "+devA.Name+" still holds it",
			func() { _, _ = i.EnterExclusive(devA) })
		i.Complete(Success, 0)
		i.Free()
	})
}

// Two goroutines race to submit the same idle IRP: exactly one enters it.
func TestEnterExclusiveRaceOneWins(t *testing.T) {
	withVerifier(t, false, func(t *testing.T) {
		rounds := 2000
		if testing.Short() {
			rounds = 200
		}
		for range rounds {
			i := Allocate(1)
			i.SetCompletionRoutine(func(*Device, *IRP, any) Status { return MoreProcessingRequired }, nil, InvokeAlways)
			var wins, refusals atomic.Int32
			var wg sync.WaitGroup
			gate := make(chan struct{})
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-gate
					if _, held := i.EnterExclusive(devA); held {
						refusals.Add(1)
					} else {
						wins.Add(1)
					}
				}()
			}
			close(gate)
			wg.Wait()
			require.EqualValues(t, 1, wins.Load())
			require.EqualValues(t, 1, refusals.Load())
			i.Complete(Success, 0)
			i.Free()
		}
	})
}

// A claim held above the current location survives the one-CAS completion of the lower
// location and is released when the walk passes the holder's location, before the
// routine above it runs.
func TestExclusiveClaimAboveFastCompletion(t *testing.T) {
	withVerifier(t, false, func(t *testing.T) {
		i := Allocate(2)
		var lowSawHeld, lowRefused, topSawHeld bool
		i.SetCompletionRoutine(func(*Device, *IRP, any) Status { // location 2, the owner's
			topSawHeld = i.HeldExclusively(devA)
			return MoreProcessingRequired
		}, nil, InvokeAlways)
		st, held := i.EnterExclusive(devA) // A holds location 2
		require.Equal(t, Success, st)
		require.False(t, held)
		i.SetCompletionRoutine(func(*Device, *IRP, any) Status { // location 1, A's
			lowSawHeld = i.HeldExclusively(devA)
			_, lowRefused = i.EnterExclusive(devA) // A still holds it: a resubmission
			return ContinueCompletion
		}, nil, InvokeAlways)
		require.Equal(t, Success, i.Enter(devB)) // B, plainly, at location 1
		before := ReadStats().Violations["IRP_SENT_WHILE_PENDING"]
		i.Complete(Success, 0)
		require.True(t, lowSawHeld, "the claim was released before A's location was finished")
		require.True(t, lowRefused, "a resubmission while A holds the IRP was let through")
		require.Equal(t, before+1, ReadStats().Violations["IRP_SENT_WHILE_PENDING"])
		require.False(t, topSawHeld, "the claim outlived A's location")
		i.Free()
	})
}
