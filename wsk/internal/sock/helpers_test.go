//go:build unix || windows

package sock

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// waitLimit bounds every wait: a call that never stops saying "again" fails the test.
const waitLimit = 10 * time.Second

var loopback4 = netip.MustParseAddrPort("127.0.0.1:0")

// retry calls fn until it reports done, at most for waitLimit (polling every
// millisecond: the tests have no engine to wait for readiness with).
func retry(t *testing.T, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !fn() {
		require.True(t, time.Now().Before(deadline), "%s: not done within %v", what, waitLimit)
		time.Sleep(time.Millisecond)
	}
}

// newSocket is Socket that closes the descriptor at the end of the test (unless the test
// closed it itself: then Close fails, which is ignored).
func newSocket(t *testing.T, family, sotype, proto int) int {
	t.Helper()
	fd, err := Socket(family, sotype, proto)
	require.NoError(t, err)
	t.Cleanup(func() { _ = Close(fd) })
	return fd
}

// listener is a TCP listener on 127.0.0.1 and its address.
func listener(t *testing.T) (int, netip.AddrPort) {
	t.Helper()
	l := newSocket(t, AFInet, SockStream, IPProtoTCP)
	require.NoError(t, PrepareListener(l))
	require.NoError(t, Bind(l, AFInet, loopback4))
	require.NoError(t, Listen(l))
	a, err := LocalAddr(l)
	require.NoError(t, err)
	return l, a
}

// accept waits for a connection on l.
func accept(t *testing.T, l int) (int, netip.AddrPort) {
	t.Helper()
	var fd int
	var peer netip.AddrPort
	retry(t, "accept", func() bool {
		var err error
		fd, peer, err = Accept(l)
		if IsAgain(err) {
			return false
		}
		require.NoError(t, err)
		return true
	})
	t.Cleanup(func() { _ = Close(fd) })
	return fd, peer
}

// connected is a connected TCP pair over loopback: the client end and the accepted end.
func connected(t *testing.T) (client, server int) {
	t.Helper()
	l, a := listener(t)
	c := newSocket(t, AFInet, SockStream, IPProtoTCP)
	require.NoError(t, Bind(c, AFInet, netip.AddrPort{}))
	if err := Connect(c, AFInet, a); err != nil {
		require.True(t, IsInProgress(err), "connect: %v", err)
	}
	s, _ := accept(t, l)
	retry(t, "connect", func() bool {
		done, err := ConnectResult(c)
		require.NoError(t, err)
		return done
	})
	return c, s
}

// readSome waits until a read of fd gives something other than "again".
func readSome(t *testing.T, fd int, b []byte) (int, error) {
	t.Helper()
	var n int
	var err error
	retry(t, "read", func() bool {
		n, err = Read(fd, b)
		return !IsAgain(err)
	})
	return n, err
}
