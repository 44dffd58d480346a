//go:build linux

package winsock_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/winsock"
)

// Real sockets: open/close cycles with every stale SOCKET replayed against each call:
// WSAENOTSOCK always, though the slots (and the kernel's descriptors) are reused.
func TestStaleSocketsRefusedAfterReuse(t *testing.T) {
	_, th := session(t)
	n := 2000
	if testing.Short() {
		n = 200
	}
	var stale []winsock.Socket
	for range n {
		s, err := th.Socket(winsock.AFInet, winsock.SockDgram, 0)
		require.NoError(t, err)
		require.NoError(t, th.Closesocket(s))
		stale = append(stale, s)
	}
	keep, err := th.Socket(winsock.AFInet, winsock.SockStream, 0) // occupies a reused slot
	require.NoError(t, err)
	refused := 0
	for _, s := range stale {
		_, e1 := th.Send(s, []byte("x"), 0)
		e2 := th.Bind(s, loopback0())
		e3 := th.Closesocket(s)
		_, e4 := th.Getsockopt(s, winsock.SOLSocket, winsock.SOType, make([]byte, 4))
		if code(e1) == irp.WSAENOTSOCK && code(e2) == irp.WSAENOTSOCK && code(e3) == irp.WSAENOTSOCK &&
			code(e4) == irp.WSAENOTSOCK {
			refused++
		}
	}
	require.Equal(t, len(stale), refused)
	_, err = th.Getsockopt(keep, winsock.SOLSocket, winsock.SOType, make([]byte, 4))
	require.NoError(t, err, "the live socket in the reused slot still works")
	require.NoError(t, th.Closesocket(keep))
}
