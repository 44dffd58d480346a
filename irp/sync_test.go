package irp

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDoSynchronousCompletion(t *testing.T) {
	i := Allocate(1)
	defer i.Free()
	res := Do(context.Background(), i, func(ir *IRP) Status {
		ir.Enter(devA)
		ir.Complete(Success, 42)
		return Success
	})
	require.Equal(t, Success, res.Status)
	require.Equal(t, uintptr(42), res.Information)
}

func TestDoPendingThenCompleted(t *testing.T) {
	i := Allocate(1)
	defer i.Free()
	var wg sync.WaitGroup
	defer wg.Wait()
	res := Do(context.Background(), i, func(ir *IRP) Status {
		ir.Enter(devA)
		ir.MarkPending()
		wg.Go(func() { ir.CompleteObject(Success, 0, "sock") })
		return Pending
	})
	require.Equal(t, "sock", res.Object)
}

func TestDoCancelledByContext(t *testing.T) {
	i := Allocate(1)
	defer i.Free()
	p := &fakeProvider{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := Do(ctx, i, func(ir *IRP) Status {
		// fakeProvider.submit enters the IRP itself.
		return p.submit(ir)
	})
	require.Equal(t, Cancelled, res.Status)
	require.True(t, i.Cancelled())
}

func TestDoRefusals(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		i := Allocate(0)
		var res IoStatusBlock
		expectViolation(t, "NO_MORE_IRP_STACK_LOCATIONS", func() {
			res = Do(context.Background(), i, func(*IRP) Status { return Success })
		})
		if !Verifier() {
			require.Equal(t, InvalidParameter, res.Status)
		}
		i.Free()

		j := Allocate(1)
		expectViolation(t, "IRP_NOT_COMPLETED_ON_SYNC_RETURN", func() {
			res = Do(context.Background(), j, func(*IRP) Status { return InvalidHandle })
		})
		if !Verifier() {
			require.Equal(t, InvalidHandle, res.Status)
		}
		j.Free()
	})
}

func TestBindContext(t *testing.T) {
	// stop before cancel: the cancel never runs.
	i := Allocate(1)
	ctx, cancel := context.WithCancel(context.Background())
	stop := i.BindContext(ctx)
	require.True(t, stop())
	cancel()
	require.False(t, i.Cancelled())
	i.Free()

	// cancel first: stop reports the race was lost and the routine ran.
	j := Allocate(1)
	require.Equal(t, Success, j.Enter(devA))
	ran := make(chan struct{})
	j.SetCancelRoutine(func(ir *IRP) { ir.Complete(Cancelled, 0); close(ran) })
	ctx2, cancel2 := context.WithCancel(context.Background())
	stop2 := j.BindContext(ctx2)
	cancel2()
	<-ran
	require.False(t, stop2())
	require.True(t, j.Cancelled())
	j.Free()
}
