//go:build unix || windows

package wsk

import (
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

func setOpt(ws *dispatch.Socket, level, code uint32, v uint32) irp.Status {
	var in [4]byte
	binary.LittleEndian.PutUint32(in[:], v)
	return ws.Basic().ControlSocket(ws, dispatch.SetOption, code, level, in[:], nil, nil, nil)
}

func getOpt(t *testing.T, ws *dispatch.Socket, level, code uint32) uint32 {
	t.Helper()
	var out [4]byte
	var n int
	require.Equal(t, irp.Success, ws.Basic().ControlSocket(ws, dispatch.GetOption, code, level, nil, out[:], &n, nil))
	require.Equal(t, 4, n)
	return binary.LittleEndian.Uint32(out[:])
}

// TestCancelKeepsSent: with SOCancelKeepsSent, cancelling a send of which part is in
// the kernel completes it with STATUS_CANCELLED and the bytes taken, the connection
// stays usable, and the peer reads exactly those bytes and then what follows. Without
// it the same cancel resets (the default, unchanged).
func TestCancelKeepsSent(t *testing.T) {
	r, npi := newReg(t)
	ws, c := connect(t, npi)
	require.Zero(t, getOpt(t, ws, dispatch.SOLSocket, SOCancelKeepsSent))
	require.Equal(t, irp.Success, setOpt(ws, dispatch.SOLSocket, SOCancelKeepsSent, 1))
	require.EqualValues(t, 1, getOpt(t, ws, dispatch.SOLSocket, SOCancelKeepsSent))
	if st := setOpt(ws, IPProtoTCP, TCPKeepAlive, 30); st == irp.NotSupported {
		// Not settable per socket on this OS (Windows before 10 1709, Wine): the
		// documented answer, for both options.
		require.Equal(t, irp.NotSupported, setOpt(ws, IPProtoTCP, TCPKeepIntvl, 5))
	} else {
		require.Equal(t, irp.Success, st)
		require.Equal(t, irp.Success, setOpt(ws, IPProtoTCP, TCPKeepIntvl, 5))
		require.EqualValues(t, 30, getOpt(t, ws, IPProtoTCP, TCPKeepAlive))
		require.EqualValues(t, 5, getOpt(t, ws, IPProtoTCP, TCPKeepIntvl))
	}

	big := make([]byte, 32<<20) // far more than the socket buffers: part stays queued
	for k := range big {
		big[k] = byte(k * 13)
	}
	p := send(t, ws, big)
	time.Sleep(50 * time.Millisecond)
	p.i.Cancel()
	st := p.wait()
	require.Equal(t, irp.Cancelled, st.Status)
	n := int(st.Information)
	require.Greater(t, n, 0)
	require.Less(t, n, len(big))

	rest := send(t, ws, big[n:])
	got := make(chan peerResult, 1)
	go func() {
		// Off the test goroutine: no require here.
		var r peerResult
		_ = c.SetReadDeadline(time.Now().Add(waitLimit))
		b, err := io.ReadAll(c)
		r.data, r.eof, r.reset = b, err == nil, isReset(err)
		got <- r
	}()
	require.Equal(t, irp.Success, rest.wait().Status)
	require.Equal(t, irp.Success, disconnect(t, ws, nil, 0).wait().Status)
	res := <-got
	require.True(t, res.eof)
	require.False(t, res.reset)
	require.Equal(t, len(big), len(res.data))
	require.Equal(t, big, res.data)
	closeSocketSync(t, ws)

	// A listener has no sends: the option is not supported there.
	ls := do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, AFInet, SockStream, IPProtoTCP, dispatch.ListenSocket, nil, nil, i)
	}).Object.(*dispatch.Socket)
	require.Equal(t, irp.NotSupported, setOpt(ls, dispatch.SOLSocket, SOCancelKeepsSent, 1))
	closeSocketSync(t, ls)
	finish(t, r)
}
