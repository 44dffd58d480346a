//go:build unix || windows

package wsk

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

func TestConnectSendReceiveGracefulClose(t *testing.T) {
	r, npi := newReg(t)
	ws, c := connect(t, npi)

	var local, remote netip.AddrPort
	require.Equal(t, irp.Success, do(t, 1, func(i *irp.IRP) irp.Status { return ws.Connection().GetLocalAddress(ws, &local, i) }).Status)
	require.Equal(t, irp.Success, do(t, 1, func(i *irp.IRP) irp.Status { return ws.Connection().GetRemoteAddress(ws, &remote, i) }).Status)
	require.Equal(t, c.RemoteAddr().String(), local.String())
	require.Equal(t, c.LocalAddr().String(), remote.String())

	io := send(t, ws, []byte("hello")).wait()
	require.Equal(t, irp.Success, io.Status)
	require.EqualValues(t, 5, io.Information)
	got := make([]byte, 5)
	_, err := c.Read(got)
	require.NoError(t, err)
	require.Equal(t, "hello", string(got))

	// A receive posted before the data arrives pends, then completes on the loop.
	b := make([]byte, 16)
	p := recv(t, ws, b, 0)
	_, err = c.Write([]byte("world"))
	require.NoError(t, err)
	io = p.wait()
	require.Equal(t, irp.Success, io.Status)
	require.Equal(t, "world", string(b[:io.Information]))

	// Graceful both ways, then close: the peer sees EOF, not RST.
	fin := dispatch.MakeBuf([]byte("bye"))
	require.Equal(t, irp.Success, disconnect(t, ws, &fin, 0).wait().Status)
	require.NoError(t, c.(interface{ CloseWrite() error }).CloseWrite())
	io = recv(t, ws, b, 0).wait()
	require.Equal(t, irp.Success, io.Status)
	require.Zero(t, io.Information, "EOF is success with 0 bytes")
	closeSocketSync(t, ws)
	res := readAll(t, c)
	require.Equal(t, "bye", string(res.data))
	require.True(t, res.eof)
	require.False(t, res.reset)
	require.Zero(t, r.Stats().ResetsSent)
	finish(t, r)
}

// Invariants 24 and 25: close without disconnecting, or after only a local graceful
// disconnect, resets the connection.
func TestCloseResetsUnlessFullyDisconnected(t *testing.T) {
	for _, tc := range []struct {
		name      string
		localFIN  bool
		peerFIN   bool
		wantReset bool
	}{
		{"nothing", false, false, true},
		{"local graceful only", true, false, true},
		{"peer graceful only", false, true, true},
		{"both", true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, npi := newReg(t)
			ws, c := connect(t, npi)
			if tc.localFIN {
				require.Equal(t, irp.Success, disconnect(t, ws, nil, 0).wait().Status)
			}
			if tc.peerFIN {
				require.NoError(t, c.(interface{ CloseWrite() error }).CloseWrite())
				io := recv(t, ws, make([]byte, 4), 0).wait()
				require.Equal(t, irp.Success, io.Status)
				require.Zero(t, io.Information)
			}
			if tc.localFIN {
				// The peer consumes our FIN first; the reset then shows on its next write
				// (Linux reports an RST received in CLOSE_WAIT as EPIPE).
				require.True(t, readAll(t, c).eof)
				closeSocketSync(t, ws)
				if tc.peerFIN {
					// Both directions done: the peer cannot write; it still reads a
					// clean EOF and its socket holds no error.
					res := readAll(t, c)
					require.True(t, res.eof)
					require.Zero(t, soError(t, c))
				} else {
					require.NoError(t, writeSeesReset(t, c), "peer saw reset")
				}
			} else {
				closeSocketSync(t, ws)
				res := readAll(t, c)
				require.Equal(t, tc.wantReset, res.reset, "peer saw reset")
				require.Equal(t, !tc.wantReset, res.eof)
			}
			finish(t, r)
			if tc.wantReset {
				require.EqualValues(t, 1, r.Stats().ResetsSent)
			}
		})
	}
}

// Invariant 22 and the SPEC.md §9 order: every pending receive completes once with CANCELLED
// before the close IRP's routine runs.
func TestCloseCancelsPendingReceivesBeforeCloseIRP(t *testing.T) {
	r, npi := newReg(t)
	ws, _ := connect(t, npi)
	const k = 5
	var ps []*pcall
	for n := 0; n < k; n++ {
		p := recv(t, ws, make([]byte, 8), 0)
		require.Equal(t, irp.Pending, p.ret)
		ps = append(ps, p)
	}
	closeP := start(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Basic().CloseSocket(ws, i) })
	require.Equal(t, irp.Pending, closeP.ret)
	require.Equal(t, irp.Success, closeP.wait().Status)
	for _, p := range ps {
		require.True(t, p.completed(), "a receive completed after the close IRP")
		io := p.wait()
		require.Equal(t, irp.Cancelled, io.Status)
		require.Zero(t, io.Information)
	}
	// Calls after close are refused by the guard (invariant 21).
	require.Equal(t, irp.InvalidHandle, recv(t, ws, make([]byte, 1), 0).wait().Status)
	finish(t, r)
	require.EqualValues(t, k, r.Stats().IRPsCancelled)
}

// Closing from inside the socket's own completion routine works and does not deadlock.
func TestCloseFromCompletionRoutine(t *testing.T) {
	r, npi := newReg(t)
	ws, c := connect(t, npi)
	closeIRP, closed := closeIRPReporting(ws)
	b := dispatch.MakeBuf(make([]byte, 8))
	ri := irp.Allocate(ws.StackSize())
	ri.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		require.Equal(t, irp.Pending, ws.Basic().CloseSocket(ws, closeIRP))
		return irp.ContinueCompletion
	}, nil, irp.InvokeAlways)
	require.Equal(t, irp.Pending, ws.Connection().Receive(ws, &b, 0, ri))
	_, err := c.Write([]byte("go"))
	require.NoError(t, err)
	require.Equal(t, irp.Success, <-closed)
	require.Equal(t, irp.Success, ri.IoStatus.Status)
	ri.Free()
	closeIRP.Free()
	finish(t, r)
}

// A reset is sticky: Linux reports it once, the socket every time.
func TestResetIsSticky(t *testing.T) {
	r, npi := newReg(t)
	ws, c := connect(t, npi)
	p := recv(t, ws, make([]byte, 8), 0)
	require.NoError(t, c.(interface{ SetLinger(int) error }).SetLinger(0))
	require.NoError(t, c.Close())
	require.Equal(t, irp.ConnectionReset, p.wait().Status)
	for n := 0; n < 3; n++ {
		require.Equal(t, irp.ConnectionReset, recv(t, ws, make([]byte, 8), 0).wait().Status)
		require.Equal(t, irp.ConnectionReset, send(t, ws, []byte("x")).wait().Status)
	}
	closeSocketSync(t, ws)
	finish(t, r)
}

// Invariants 27 and 30: abortive disconnect with a buffer is refused; without one it
// resets, cancels pending sends with CONNECTION_ABORTED, and both directions fail after.
func TestAbortiveDisconnect(t *testing.T) {
	r, npi := newReg(t)
	ws, c := connect(t, npi)
	b := dispatch.MakeBuf([]byte("x"))
	require.Equal(t, irp.InvalidParameter, disconnect(t, ws, &b, dispatch.FlagAbortive).wait().Status)

	// Fill the pipe so a send pends (the peer does not read).
	big := make([]byte, 8<<20)
	sp := send(t, ws, big)
	require.Equal(t, irp.Pending, sp.ret)
	rp := recv(t, ws, make([]byte, 8), 0)
	require.Equal(t, irp.Pending, rp.ret)

	require.Equal(t, irp.Success, disconnect(t, ws, nil, dispatch.FlagAbortive).wait().Status)
	require.Equal(t, irp.ConnectionAborted, sp.wait().Status)
	require.Equal(t, irp.ConnectionAborted, rp.wait().Status)
	require.Equal(t, irp.ConnectionAborted, send(t, ws, []byte("x")).wait().Status)
	require.Equal(t, irp.ConnectionAborted, recv(t, ws, make([]byte, 1), 0).wait().Status)
	resetSeen := requireAbortReset(t, ws, c, "peer saw RST")
	closeSocketSync(t, ws)
	resetSeen()
	finish(t, r)
}

// Invariant 28: the final buffer goes before FIN, sends fail after, receives go on.
func TestGracefulDisconnectHalfClose(t *testing.T) {
	r, npi := newReg(t)
	ws, c := connect(t, npi)
	require.Equal(t, irp.Success, send(t, ws, []byte("one,")).wait().Status)
	fin := dispatch.MakeBufChain([]byte("two,"), []byte("three"))
	require.Equal(t, irp.Success, disconnect(t, ws, &fin, 0).wait().Status)
	require.Equal(t, irp.PipeDisconnected, send(t, ws, []byte("x")).wait().Status)
	res := readAll(t, c)
	require.Equal(t, "one,two,three", string(res.data))
	require.True(t, res.eof)
	_, err := c.Write([]byte("reply"))
	require.NoError(t, err)
	b := make([]byte, 5)
	io := recv(t, ws, b, dispatch.FlagWaitAll).wait()
	require.Equal(t, irp.Success, io.Status)
	require.Equal(t, "reply", string(b))
	closeSocketSync(t, ws)
	finish(t, r)
}

// Invariant 29: a stuck graceful disconnect is forced to complete by an abortive one,
// and by close.
func TestStuckGracefulDisconnectForced(t *testing.T) {
	for _, byClose := range []bool{false, true} {
		r, npi := newReg(t)
		ws, c := connect(t, npi)
		sp := send(t, ws, make([]byte, 8<<20))
		require.Equal(t, irp.Pending, sp.ret)
		dp := disconnect(t, ws, nil, 0)
		require.Equal(t, irp.Pending, dp.ret)
		want := irp.ConnectionAborted
		if byClose {
			want = irp.Cancelled
			closeSocketSync(t, ws)
		} else {
			require.Equal(t, irp.Success, disconnect(t, ws, nil, dispatch.FlagAbortive).wait().Status)
		}
		require.Equal(t, want, sp.wait().Status)
		require.Equal(t, want, dp.wait().Status)
		if byClose {
			require.True(t, readAll(t, c).reset)
		} else {
			resetSeen := requireAbortReset(t, ws, c, "the forcing abortive disconnect resets")
			closeSocketSync(t, ws)
			resetSeen()
		}
		finish(t, r)
	}
}

func TestReceiveFlagsAndWaitAllDrain(t *testing.T) {
	r, npi := newReg(t)
	ws, c := connect(t, npi)
	require.Equal(t, irp.InvalidParameter, recv(t, ws, make([]byte, 4), dispatch.FlagWaitAll|dispatch.FlagDrain).wait().Status)
	require.Equal(t, irp.InvalidParameter, recv(t, ws, make([]byte, 4), dispatch.FlagDrain).wait().Status)

	// WAITALL gathers across writes.
	b := make([]byte, 6)
	p := recv(t, ws, b, dispatch.FlagWaitAll)
	require.Equal(t, irp.Pending, p.ret)
	_, _ = c.Write([]byte("abc"))
	_, _ = c.Write([]byte("def"))
	io := p.wait()
	require.Equal(t, irp.Success, io.Status)
	require.EqualValues(t, 6, io.Information)
	require.Equal(t, "abcdef", string(b))

	// Zero-length receive completes once data is there, taking none of it.
	zp := recv(t, ws, nil, 0)
	_, _ = c.Write([]byte("zz"))
	io = zp.wait()
	require.Equal(t, irp.Success, io.Status)
	require.Zero(t, io.Information)
	b2 := make([]byte, 2)
	require.EqualValues(t, 2, recv(t, ws, b2, dispatch.FlagWaitAll).wait().Information)
	require.Equal(t, "zz", string(b2))

	// DRAIN discards until the peer's FIN.
	dp := recv(t, ws, nil, dispatch.FlagDrain)
	_, _ = c.Write(bytes.Repeat([]byte("q"), 100_000))
	require.NoError(t, c.(interface{ CloseWrite() error }).CloseWrite())
	io = dp.wait()
	require.Equal(t, irp.Success, io.Status)
	require.Zero(t, io.Information)
	closeSocketSync(t, ws)
	require.True(t, readAll(t, c).reset, "closed with only the remote side disconnected")
	finish(t, r)
}
