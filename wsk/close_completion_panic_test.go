//go:build linux

package wsk

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// TESTING.md case 16, at close: the completion routine of a receive that the close
// cancels (step 5) panics. The panic cannot stop the close: the close IRP completes
// with STATUS_SUCCESS on the caller's goroutine, the other pending receive of the socket
// still completes (STATUS_CANCELLED), the peer sees the reset, the panic is counted in
// Stats.CallbackPanics, and Deregister returns.
func TestCompletionPanicAtCloseContained(t *testing.T) {
	r, npi := newReg(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	ws, peer := rlDialAccepted(t, npi, ln, nil, nil)
	defer peer.Close()

	i := irp.Allocate(ws.StackSize())
	i.SetCompletionRoutine(func(*irp.Device, *irp.IRP, any) irp.Status {
		panic("TESTING.md case 16: completion routine at close")
	}, nil, irp.InvokeAlways)
	b := dispatch.MakeBuf(make([]byte, 4))
	require.Equal(t, irp.Pending, ws.Connection().Receive(ws, &b, 0, i))
	other := recv(t, ws, make([]byte, 4), 0)
	require.Equal(t, irp.Pending, other.ret)

	closed := make(chan irp.IoStatusBlock, 1)
	go func() {
		ci := irp.Allocate(ws.StackSize())
		ci.SetCompletionRoutine(func(_ *irp.Device, ci *irp.IRP, _ any) irp.Status {
			closed <- ci.IoStatus
			return irp.MoreProcessingRequired
		}, nil, irp.InvokeAlways)
		_ = ws.Basic().CloseSocket(ws, ci)
	}()
	select {
	case st := <-closed:
		require.Equal(t, irp.Success, st.Status)
	case <-time.After(waitLimit):
		require.FailNow(t, "the close never completed after a completion routine panicked in it")
	}
	require.Equal(t, irp.Cancelled, other.wait().Status, "the receive after the panicking one still completes")
	require.True(t, readAll(t, peer).reset, "the peer sees the reset")

	finish(t, r) // Deregister returns, nothing open or pending
	require.EqualValues(t, 1, r.Stats().CallbackPanics, "the close counted the panic")
}
