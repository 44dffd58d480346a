//go:build linux

package winsock_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/winsock"
)

// A duplicated SOCKET shares the connection and its options; closing a non-last one
// sends nothing; the last close runs the linger logic (invariant 48). The protocol
// info is single use.
func TestDuplicateSocket(t *testing.T) {
	_, th := session(t)
	s, peer := dialPeer(t, th)
	info, err := th.WSADuplicateSocket(s, uint32(os.Getpid()))
	require.NoError(t, err)
	f := winsock.FromProtocolInfo
	d, err := th.WSASocket(f, f, f, &info, winsock.WSAFlagOverlapped)
	require.NoError(t, err)
	require.NotEqual(t, s, d)
	_, err = th.WSASocket(f, f, f, &info, 0)
	require.Equal(t, irp.WSAEINVAL, code(err), "second use of a protocol info")
	_, err = th.WSASocket(f, f, f, &winsock.ProtocolInfo{}, 0)
	require.Equal(t, irp.WSAEINVAL, code(err), "unknown protocol info")
	_, err = th.WSASocket(f, f, f, nil, 0)
	require.Equal(t, winsock.WSAEFAULT, code(err))

	setLinger(t, th, s, 1, 0) // shared: the last close will be hard
	require.NoError(t, th.Closesocket(s))
	_ = peer.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, err = peer.Read(make([]byte, 1))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded, "closing a non-last SOCKET sent nothing")
	_, err = th.Send(s, []byte("x"), 0)
	require.Equal(t, irp.WSAENOTSOCK, code(err))
	_, err = th.Send(d, []byte("still here"), 0)
	require.NoError(t, err)
	val := make([]byte, 4)
	_, err = th.Getsockopt(d, winsock.SOLSocket, winsock.SOLinger, val)
	require.NoError(t, err)
	lg, _ := winsock.ParseLinger(val)
	require.Equal(t, winsock.Linger{OnOff: 1, Linger: 0}, lg, "options are shared")
	require.NoError(t, th.Closesocket(d))
	saw := drain(peer)
	t.Logf("last close of a duplicated socket with {1,0}: peer saw %d bytes, then %v", saw.N, saw)
	require.True(t, saw.Reset, "peer: %v", saw)
}

// An unused protocol info keeps the socket until WSACleanup drops it.
func TestDuplicateInfoUnusedUntilCleanup(t *testing.T) {
	w, th := session(t)
	s, peer := dialPeer(t, th)
	_, err := th.WSADuplicateSocket(s, 1)
	require.NoError(t, err)
	require.NoError(t, th.Closesocket(s))
	_ = peer.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err = peer.Read(make([]byte, 1))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded, "the info still holds the socket")
	_ = w
}
