//go:build unix || windows

package wsk

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// cfWaitHeld waits until the oldest queued receive of ws holds n bytes (the provider
// read them into its buffer and keeps it pending: WAITALL).
func cfWaitHeld(t *testing.T, ws *dispatch.Socket, n int) {
	t.Helper()
	s := sockOf(ws)
	deadline := time.Now().Add(waitLimit)
	for {
		s.mu.Lock()
		held := -1
		if !s.recvQ.empty() {
			held = s.recvQ.head().n
		}
		s.mu.Unlock()
		if held == n {
			return
		}
		require.True(t, time.Now().Before(deadline), "the receive never held %d bytes (holds %d)", n, held)
		time.Sleep(time.Millisecond)
	}
}

// TestConformanceReceiveCompletionTriggers: SPEC.md §2.6 — a WAITALL or DRAIN receive
// completes on buffer full (WAITALL only), the peer's graceful disconnect, an abortive
// disconnect by either side, cancellation, or close; with the status and byte count of
// the model (SPEC.md §9): partial data is kept on FIN and on cancel, close cancels with 0 bytes.
func TestConformanceReceiveCompletionTriggers(t *testing.T) {
	type outcome struct {
		st   irp.Status
		info int // -1: not checked (a reset may or may not leave the bytes readable first)
	}
	for _, tc := range []struct {
		name    string
		flags   dispatch.Flags
		trigger func(t *testing.T, ws *dispatch.Socket, c net.Conn, p *pcall)
		want    outcome
		reset   bool // the peer sees a reset at the end
	}{
		{"WAITALL/buffer full", dispatch.FlagWaitAll, func(t *testing.T, _ *dispatch.Socket, c net.Conn, _ *pcall) {
			writePeer(t, c, "45678")
		}, outcome{irp.Success, 8}, true},
		{"WAITALL/peer FIN", dispatch.FlagWaitAll, func(t *testing.T, _ *dispatch.Socket, c net.Conn, _ *pcall) {
			require.NoError(t, c.(*net.TCPConn).CloseWrite())
		}, outcome{irp.Success, 3}, true},
		{"WAITALL/peer reset", dispatch.FlagWaitAll, func(t *testing.T, _ *dispatch.Socket, c net.Conn, _ *pcall) {
			require.NoError(t, c.(*net.TCPConn).SetLinger(0))
			require.NoError(t, c.Close())
		}, outcome{irp.ConnectionReset, -1}, false},
		{"WAITALL/local abortive", dispatch.FlagWaitAll, func(t *testing.T, ws *dispatch.Socket, _ net.Conn, _ *pcall) {
			require.Equal(t, irp.Success, disconnect(t, ws, nil, dispatch.FlagAbortive).wait().Status)
		}, outcome{irp.ConnectionAborted, -1}, true},
		{"WAITALL/cancel keeps the bytes", dispatch.FlagWaitAll, func(_ *testing.T, _ *dispatch.Socket, _ net.Conn, p *pcall) {
			p.i.Cancel()
		}, outcome{irp.Success, 3}, true},
		{"WAITALL/close", dispatch.FlagWaitAll, func(t *testing.T, ws *dispatch.Socket, _ net.Conn, _ *pcall) {
			closeSocketSync(t, ws)
		}, outcome{irp.Cancelled, 0}, true},
		{"DRAIN/peer FIN", dispatch.FlagDrain, func(t *testing.T, _ *dispatch.Socket, c net.Conn, _ *pcall) {
			require.NoError(t, c.(*net.TCPConn).CloseWrite())
		}, outcome{irp.Success, 0}, true},
		{"DRAIN/peer reset", dispatch.FlagDrain, func(t *testing.T, _ *dispatch.Socket, c net.Conn, _ *pcall) {
			require.NoError(t, c.(*net.TCPConn).SetLinger(0))
			require.NoError(t, c.Close())
		}, outcome{irp.ConnectionReset, 0}, false},
		{"DRAIN/local abortive", dispatch.FlagDrain, func(t *testing.T, ws *dispatch.Socket, _ net.Conn, _ *pcall) {
			require.Equal(t, irp.Success, disconnect(t, ws, nil, dispatch.FlagAbortive).wait().Status)
		}, outcome{irp.ConnectionAborted, 0}, true},
		{"DRAIN/cancel", dispatch.FlagDrain, func(_ *testing.T, _ *dispatch.Socket, _ net.Conn, p *pcall) {
			p.i.Cancel()
		}, outcome{irp.Cancelled, 0}, true},
		{"DRAIN/close", dispatch.FlagDrain, func(t *testing.T, ws *dispatch.Socket, _ net.Conn, _ *pcall) {
			closeSocketSync(t, ws)
		}, outcome{irp.Cancelled, 0}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, npi := newReg(t)
			ws, c := connect(t, npi)
			var b []byte
			if tc.flags&dispatch.FlagWaitAll != 0 {
				b = make([]byte, 8)
			}
			p := recv(t, ws, b, tc.flags)
			require.Equal(t, irp.Pending, p.ret)
			writePeer(t, c, "123")
			if tc.flags&dispatch.FlagWaitAll != 0 {
				cfWaitHeld(t, ws, 3)
			} else {
				// DRAIN discards: wait until the kernel queue is empty again.
				require.Eventually(t, func() bool { return cfInQueue(t, ws) == 0 }, waitLimit, time.Millisecond)
			}
			require.False(t, p.completed(), "completed before its trigger")
			tc.trigger(t, ws, c, p)
			io := p.wait()
			require.Equal(t, tc.want.st, io.Status)
			if tc.want.info >= 0 {
				require.EqualValues(t, tc.want.info, io.Information)
			}
			if io.Status == irp.Success && tc.flags&dispatch.FlagWaitAll != 0 {
				require.Equal(t, "12345678"[:io.Information], string(b[:io.Information]))
			}
			if !ws.Closing() {
				closeSocketSync(t, ws)
			}
			if tc.reset {
				require.True(t, readAll(t, c).reset, "the peer saw a reset")
			}
			finish(t, r)
		})
	}
}

// cfInQueue is SIOCINQ of ws's descriptor through SIO_WSK_QUERY_RECEIVE_BACKLOG.
func cfInQueue(t *testing.T, ws *dispatch.Socket) uint64 {
	t.Helper()
	out := make([]byte, 8)
	var n int
	io := do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Basic().ControlSocket(ws, dispatch.Ioctl, dispatch.SIOWskQueryReceiveBacklog, 0, nil, out, &n, i)
	})
	require.Equal(t, irp.Success, io.Status)
	return binary.LittleEndian.Uint64(out)
}

// TestConformanceBufferChains: WSK_BUF rules of SPEC.md §2.8 on the wire. A chain longer than
// one readv/writev takes (more than 64 pieces), empty pieces, an Offset into the first
// piece and a Length that ends inside a piece: send sends exactly Length bytes from
// Offset on, and a WAITALL receive fills exactly those bytes, in order.
func TestConformanceBufferChains(t *testing.T) {
	r, npi := newReg(t)
	ws, c := connect(t, npi)
	const pieces = 150
	mk := func() ([][]byte, dispatch.Buf) {
		parts := make([][]byte, pieces)
		for k := range parts {
			switch {
			case k == 0:
				parts[k] = make([]byte, 5) // Offset 3: two bytes used
			case k%10 == 5:
				parts[k] = nil // an empty piece
			default:
				parts[k] = make([]byte, 1)
			}
		}
		b := dispatch.MakeBufChain(parts...)
		b.Offset = 3
		b.Length -= 3 + 1 // ends before the last piece's byte
		return parts, b
	}
	parts, out := mk()
	want := make([]byte, 0, out.Length)
	n := byte(0)
	for k, p := range parts {
		for j := range p {
			p[j] = 'A' + n%26
			n++
			if (k > 0 || j >= 3) && len(want) < out.Length {
				want = append(want, p[j])
			}
		}
	}
	require.True(t, out.Valid())
	io := do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Connection().Send(ws, &out, 0, i) })
	require.Equal(t, irp.Success, io.Status)
	require.EqualValues(t, out.Length, io.Information)
	got := make([]byte, out.Length)
	_, err := cfReadFull(c, got)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))

	// The same shape as a WAITALL receive: the peer sends the bytes back.
	rparts, in := mk()
	p := start(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Connection().Receive(ws, &in, dispatch.FlagWaitAll, i) })
	writePeer(t, c, string(want)+"tail")
	io = p.wait()
	require.Equal(t, irp.Success, io.Status)
	require.EqualValues(t, in.Length, io.Information)
	var back []byte
	for k, q := range rparts {
		if k == 0 {
			q = q[3:]
		}
		back = append(back, q...)
	}
	require.Equal(t, string(want), string(back[:in.Length]))
	require.Zero(t, rparts[0][0], "nothing written before Offset")
	require.Zero(t, rparts[pieces-1][0], "nothing written past Length")
	require.Equal(t, "tail", string(recvData(t, ws, 8)))
	closeSocketSync(t, ws)
	finish(t, r)
}
