//go:build unix || windows

package wsk

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

func TestCallHelper(t *testing.T) {
	r, npi := newReg(t)
	ws, c := connect(t, npi)
	buf := dispatch.MakeBuf(make([]byte, 4))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	io := Call(ctx, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Connection().Receive(ws, &buf, 0, i) })
	require.Equal(t, irp.Cancelled, io.Status)
	_, _ = c.Write([]byte("data"))
	io = Call(context.Background(), ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Connection().Receive(ws, &buf, 0, i) })
	require.Equal(t, irp.Success, io.Status)
	io = Call(context.Background(), ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Basic().CloseSocket(ws, i) })
	require.Equal(t, irp.Success, io.Status)
	finish(t, r)
}
