//go:build unix || windows

package wsk

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

func TestSocketCategories(t *testing.T) {
	r, npi := newReg(t)
	mk := func(family, sotype int, flags dispatch.SocketFlags, ctx, cd any) irp.IoStatusBlock {
		return do(t, 1, func(i *irp.IRP) irp.Status {
			return npi.Dispatch.Socket(npi.Client, family, sotype, 0, flags, ctx, cd, i)
		})
	}
	require.Equal(t, irp.InvalidParameter, mk(AFInet, SockStream, 0x10, nil, nil).Status)
	require.Equal(t, irp.InvalidParameter, mk(AFInet, SockStream, 3, nil, nil).Status)
	require.Equal(t, irp.InvalidParameter, mk(99, SockStream, dispatch.ConnectionSocket, nil, nil).Status)
	require.Equal(t, irp.InvalidParameter, mk(AFInet, SockDgram, dispatch.ConnectionSocket, nil, nil).Status)
	require.Equal(t, irp.InvalidParameter, mk(AFInet, SockStream, dispatch.BasicSocket, "ctx", nil).Status)
	lio := mk(AFInet, SockStream, dispatch.ListenSocket, nil, nil) // listen sockets: listen_test.go
	require.Equal(t, irp.Success, lio.Status)
	closeSocketSync(t, lio.Object.(*dispatch.Socket))
	require.Equal(t, irp.InvalidParameter, npi.Dispatch.Socket(npi.Client, AFInet, SockStream, 0, 0, nil, nil, nil))

	// A basic socket: options only (invariant 8: category 0 → basic table).
	io := mk(AFInet6, SockStream, dispatch.BasicSocket, nil, nil)
	require.Equal(t, irp.Success, io.Status)
	ws := io.Object.(*dispatch.Socket)
	require.Equal(t, dispatch.BasicSocket, ws.Category())
	require.Nil(t, ws.Connection())
	out := make([]byte, 4)
	var n int
	require.Equal(t, irp.Success, ws.Basic().ControlSocket(ws, dispatch.GetOption, SORcvBuf, dispatch.SOLSocket, nil, out, &n, nil))
	require.Equal(t, 4, n)
	require.NotZero(t, binary.LittleEndian.Uint32(out))
	closeSocketSync(t, ws)

	// Connection sockets accept the Linux AF_INET6 too.
	io = mk(10, SockStream, dispatch.ConnectionSocket, nil, nil)
	require.Equal(t, irp.Success, io.Status)
	ws = io.Object.(*dispatch.Socket)
	require.Equal(t, dispatch.ConnectionSocket, ws.Category())
	closeSocketSync(t, ws)
	finish(t, r)
}

// Limits: hitting a bound is INSUFFICIENT_RESOURCES with the IRP completed, never a panic.
func TestLimits(t *testing.T) {
	r, npi := newReg(t, WithLimits(Limits{MaxPendingPerSocket: 2, MaxSockets: 2}))
	ws, _ := connect(t, npi)
	p1 := recv(t, ws, make([]byte, 1), 0)
	p2 := recv(t, ws, make([]byte, 1), 0)
	require.Equal(t, irp.InsufficientResources, recv(t, ws, make([]byte, 1), 0).wait().Status)
	s2 := newConnSocket(t, npi, AFInet)
	require.Equal(t, irp.InsufficientResources, do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, AFInet, SockStream, 0, dispatch.ConnectionSocket, nil, nil, i)
	}).Status)
	require.EqualValues(t, 2, r.Stats().LimitRejections)
	closeSocketSync(t, ws)
	require.Equal(t, irp.Cancelled, p1.wait().Status)
	require.Equal(t, irp.Cancelled, p2.wait().Status)
	closeSocketSync(t, s2)
	finish(t, r)
}

// A panicking callback aborts only its socket: the peer sees RST, the panic is counted.
func TestCallbackPanicAbortsSocket(t *testing.T) {
	r, npi := newReg(t)
	ws, c := connect(t, npi)
	other, oc := connect(t, npi)
	p := recv(t, ws, make([]byte, 4), 0)
	s := sockOf(ws)
	require.True(t, s.invokeCallback("test", func() { panic("boom") }))
	require.Equal(t, irp.ConnectionAborted, p.wait().Status)
	resetSeen := requireAbortReset(t, ws, c, "the peer sees RST")
	require.EqualValues(t, 1, r.Stats().CallbackPanics)
	// The other socket is untouched.
	require.Equal(t, irp.Success, send(t, other, []byte("ok")).wait().Status)
	b := make([]byte, 2)
	_, err := oc.Read(b)
	require.NoError(t, err)
	closeSocketSync(t, ws)
	resetSeen()
	// After close no callback starts (step 4).
	require.False(t, s.invokeCallback("late", func() { t.Error("callback after close") }))
	closeSocketSync(t, other)
	finish(t, r)
}

// Invariant 21 under concurrency: calls racing with close either run or are refused with
// INVALID_HANDLE; every IRP completes exactly once, and the close IRP completes last.
func TestCallsRacingClose(t *testing.T) {
	r, npi := newReg(t)
	rounds := 50
	if testing.Short() {
		rounds = 10
	}
	var refused, ran int
	for k := 0; k < rounds; k++ {
		ws, c := connect(t, npi)
		const callers = 4
		results := make(chan *pcall, callers*8)
		posted := make(chan struct{}, callers)
		doneCh := make(chan struct{})
		for g := 0; g < callers; g++ {
			go func() {
				defer func() { doneCh <- struct{}{} }()
				for n := 0; n < 8; n++ {
					results <- recv(t, ws, make([]byte, 4), 0)
					if n == 0 {
						posted <- struct{}{}
					}
				}
			}()
		}
		<-posted // at least one receive is pending: close has something to cancel
		closeSocketSync(t, ws)
		for g := 0; g < callers; g++ {
			<-doneCh
		}
		close(results)
		for p := range results {
			require.True(t, p.completed(), "an IRP completed after the close IRP, or never")
			switch p.wait().Status {
			case irp.InvalidHandle:
				refused++
			case irp.Cancelled:
				ran++
			default:
				t.Fatalf("unexpected status")
			}
		}
		c.Close()
	}
	require.Positive(t, refused, "no call was refused by the guard")
	require.Positive(t, ran, "no pending call was cancelled by close")
	t.Logf("refused %d, cancelled by close %d", refused, ran)
	finish(t, r)
}
