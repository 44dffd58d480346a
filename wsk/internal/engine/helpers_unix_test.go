//go:build unix

package engine

import (
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// tcpPair returns two connected loopback TCP descriptors, both
// non-blocking, owned by the test (closed at cleanup unless the test
// closes them itself and clears the pointer).
func tcpPair(t testing.TB) (a, b int) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	cc, err := net.Dial("tcp4", ln.Addr().String())
	require.NoError(t, err)
	r := <-ch
	require.NoError(t, r.err)
	a = dupNonblock(t, cc.(*net.TCPConn))
	b = dupNonblock(t, r.c.(*net.TCPConn))
	require.NoError(t, cc.Close())
	require.NoError(t, r.c.Close())
	return a, b
}

func dupNonblock(t testing.TB, c *net.TCPConn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	require.NoError(t, err)
	var fd int
	var derr error
	require.NoError(t, rc.Control(func(s uintptr) {
		fd, derr = unix.Dup(int(s))
	}))
	require.NoError(t, derr)
	unix.CloseOnExec(fd)
	require.NoError(t, unix.SetNonblock(fd, true))
	return fd
}

// The socket operations the tests that run on every OS use (helpers_windows_test.go has
// their Winsock twins). sockRead returns (0, nil) at EOF.
func sockRead(fd int, p []byte) (int, error)  { return unix.Read(fd, p) }
func sockWrite(fd int, p []byte) (int, error) { return unix.Write(fd, p) }
func sockClose(fd int) error                  { return unix.Close(fd) }
func wouldBlock(err error) bool               { return errors.Is(err, unix.EAGAIN) }
func isReset(err error) bool                  { return errors.Is(err, unix.ECONNRESET) }

// setLingerZero sets SO_LINGER {1, 0}: the last close resets the connection.
func setLingerZero(fd int) error {
	return unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
}

// peerReset waits until the connection of fd ends and returns nil if it ended with a
// reset (ECONNRESET), an error saying how it ended otherwise. It leaves fd blocking.
func peerReset(fd int) error {
	if err := unix.SetNonblock(fd, false); err != nil {
		return err
	}
	var buf [8]byte
	n, err := unix.Read(fd, buf[:])
	if isReset(err) {
		return nil
	}
	return fmt.Errorf("read returned %d, %v: no reset", n, err)
}

// waitersPerFD is the number of Stats.Waiters goroutines a portable registration costs.
const waitersPerFD = 2
