package dispatch

import (
	"sync"
	"testing"

	"github.com/gowsk/gowsk/irp"
	"github.com/stretchr/testify/require"
)

func violations() uint64 {
	var n uint64
	for _, v := range irp.ReadStats().Violations {
		n += v
	}
	return n
}

// TestLayerPropagatesPending: a provider that pends and completes on another goroutine,
// under two Counter layers. The caller's routine must see PendingReturned, and the
// close waits for the in-flight call only (not its later completion).
func TestLayerPropagatesPending(t *testing.T) {
	before := violations()
	var wg sync.WaitGroup
	provider := &ConnectionDispatch{
		BasicDispatch: BasicDispatch{CloseSocket: func(s *Socket, i *irp.IRP) irp.Status {
			i.Complete(irp.Success, 0)
			return irp.Success
		}},
		Receive: func(s *Socket, b *Buf, _ Flags, i *irp.IRP) irp.Status {
			i.MarkPending()
			wg.Go(func() { i.Complete(irp.Success, 7) })
			return irp.Pending
		},
	}
	var c1, c2 Counter
	tbl := Layer(Layer(provider, &c1, &irp.Device{Name: "c1"}), &c2, &irp.Device{Name: "c2"})
	s := NewSocket(tbl, nil)
	require.Equal(t, 3, s.StackSize())

	const n = 20
	var pendingSeen [n]bool
	done := make(chan struct{}, n)
	for k := range n {
		i := irp.Allocate(s.StackSize())
		i.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
			pendingSeen[k] = i.PendingReturned()
			done <- struct{}{}
			// Keep the IRP: the test goroutine frees it as soon as done arrives, which
			// with ContinueCompletion could be while the walk still owns it (a free of
			// a pending IRP, counted as a contract violation).
			return irp.MoreProcessingRequired
		}, nil, irp.InvokeAlways)
		b := MakeBuf(make([]byte, 8))
		require.Equal(t, irp.Pending, s.Connection().Receive(s, &b, 0, i))
		<-done
		i.Free()
	}
	wg.Wait()
	for k := range n {
		require.True(t, pendingSeen[k], "PendingReturned lost through the layers (call %d)", k)
	}
	for _, c := range []*Counter{&c1, &c2} {
		snap := c.Snapshot()
		require.Equal(t, uint64(n), snap.Calls[MemberReceive])
		require.Equal(t, uint64(n), snap.Completions[MemberReceive])
	}
	cl := newTracked(s.StackSize(), nil)
	require.Equal(t, irp.Pending, s.Basic().CloseSocket(s, cl.irp))
	require.Equal(t, int32(1), cl.completions.Load())
	cl.irp.Free()
	require.Equal(t, before, violations(), "irp contract violations")
}
