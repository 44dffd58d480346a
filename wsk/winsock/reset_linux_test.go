//go:build linux

package winsock_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/winsock"
)

// The peer resets: a send or receive reports WSAECONNRESET, and so does every later
// call: the reset is sticky although Linux reports it once (TESTING.md case 35).
func TestResetIsSticky(t *testing.T) {
	_, th := session(t)
	s, peer := dialPeer(t, th)
	require.NoError(t, peer.SetLinger(0))
	require.NoError(t, peer.Close())
	b := make([]byte, 8)
	var first error
	for deadline := time.Now().Add(waitLimit); time.Now().Before(deadline); {
		if _, first = th.Recv(s, b, 0); first != nil {
			break
		}
	}
	require.Equal(t, irp.WSAECONNRESET, code(first))
	for range 3 {
		_, err := th.Recv(s, b, 0)
		require.Equal(t, irp.WSAECONNRESET, code(err), "never EOF after a reset")
		_, err = th.Send(s, []byte("x"), 0)
		require.Equal(t, irp.WSAECONNRESET, code(err))
	}
	require.NoError(t, th.Closesocket(s))
}

// The peer sends its FIN: receives drain the data, then 0 bytes; sends still work; our
// default close then ends gracefully (TESTING.md case 36; invariant 49's other side).
func TestHalfCloseByPeer(t *testing.T) {
	w, th := session(t)
	s, peer := dialPeer(t, th)
	_, err := peer.Write([]byte("last words"))
	require.NoError(t, err)
	require.NoError(t, peer.CloseWrite())
	b := make([]byte, 64)
	var got []byte
	for {
		n, err := th.Recv(s, b, 0)
		require.NoError(t, err)
		if n == 0 {
			break
		}
		got = append(got, b[:n]...)
	}
	require.Equal(t, "last words", string(got))
	_, err = th.Send(s, []byte("reply"), 0)
	require.NoError(t, err, "the half-closed side still sends")
	require.NoError(t, th.Closesocket(s))
	saw := drain(peer)
	require.True(t, saw.EOF && !saw.Reset, "peer: %v", saw)
	require.EqualValues(t, 5, saw.N)
	require.Eventually(t, func() bool { return w.Stats().ClosesGraceful == 1 }, waitLimit, time.Millisecond)
}

// A reset in the middle of a transfer: the pending overlapped receive completes once
// with WSAECONNRESET, nothing hangs, the socket closes cleanly afterwards (TESTING.md
// case 37, with the peer's abortive close standing in for an injected RST).
func TestMidStreamReset(t *testing.T) {
	_, th := session(t)
	s, peer := dialPeer(t, th)
	ov := &winsock.Overlapped{Event: winsock.WSACreateEvent()}
	_, err := th.WSARecv(s, [][]byte{make([]byte, 8)}, nil, ov, nil)
	require.Equal(t, irp.WSAIOPending, code(err))
	sendOv := fill(t, th, s, 8_000_000)
	require.NoError(t, peer.SetLinger(0))
	require.NoError(t, peer.Close())
	_, _, err = th.WSAGetOverlappedResult(s, ov, true)
	require.Equal(t, irp.WSAECONNRESET, code(err))
	_, _, err = th.WSAGetOverlappedResult(s, sendOv, true)
	require.Error(t, err, "the pending send fails too")
	for _, o := range []*winsock.Overlapped{ov, sendOv} {
		c, st := o.Completions()
		require.Equal(t, uint64(1), c)
		require.Equal(t, uint64(1), st)
	}
	require.NoError(t, th.Closesocket(s))
}
