//go:build unix

package wsk

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// The tests' OS calls on peers and descriptors (peer_windows_test.go has Windows's).

// isReset reports ECONNRESET or EPIPE (a reset in CLOSE_WAIT is reported as EPIPE).
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// pollsReset: here a read or write reports a reset itself (isReset); an EOF is a FIN.
func pollsReset(net.Conn) bool { return false }

// writeSeesReset writes one byte to c, the peer of a connection the provider reset after
// c read its FIN: the write reports the reset (EPIPE: Linux reports an RST received in
// CLOSE_WAIT so). Anything else is returned as an error.
func writeSeesReset(t testing.TB, c net.Conn) error {
	t.Helper()
	_, err := c.Write([]byte("x"))
	if isReset(err) {
		return nil
	}
	return fmt.Errorf("the write after the reset returned %v", err)
}

// soError reads SO_ERROR of the peer's socket (non-zero after a reset it has not
// reported yet).
func soError(t *testing.T, c net.Conn) int {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)
	var v int
	require.NoError(t, rc.Control(func(fd uintptr) {
		v, err = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
	}))
	require.NoError(t, err)
	return v
}

// waitReadable waits until descriptor fd polls readable (a listener: a connection is
// queued).
func waitReadable(t testing.TB, fd int) {
	t.Helper()
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, int(waitLimit/time.Millisecond))
	require.NoError(t, err)
	require.Equal(t, 1, n, "descriptor never readable")
}

// killListener stops listener fd: after shutdown(SHUT_RDWR) accept(2) fails with EINVAL,
// the dead-listener case of invariant 37.
func killListener(t *testing.T, fd int) {
	t.Helper()
	require.NoError(t, unix.Shutdown(fd, unix.SHUT_RDWR))
}
