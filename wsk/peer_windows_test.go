//go:build windows

package wsk

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
)

// The tests' OS calls on peers and descriptors, Windows's (peer_unix_test.go).

// isReset reports a reset as package net reports it on Windows (WSAECONNRESET, or
// WSAECONNABORTED for a send the stack aborted), as Wine reports a send on a reset
// connection (WSAESHUTDOWN: it maps the EPIPE of Linux, which is a reset there), or as the
// provider's errors do (syscall.ECONNRESET).
func isReset(err error) bool {
	return errors.Is(err, windows.WSAECONNRESET) || errors.Is(err, windows.WSAECONNABORTED) ||
		errors.Is(err, windows.WSAESHUTDOWN) || errors.Is(err, syscall.ECONNRESET)
}

// pollsReset reports whether c, whose read just returned EOF (or whose write succeeded
// after the provider reset the connection), was in fact reset. Windows reports a reset to
// the read or write itself (WSAECONNRESET); Wine's server may read and clear the socket's
// pending error while it polls it, and the read then returns EOF as for a FIN (the write
// succeeds). The socket still polls as POLLERR, which a FIN never sets (the provider's own
// reads use the same test: wsk/internal/sock).
// Any failure to ask is "no" (it may run on a reader goroutine: no require).
func pollsReset(c net.Conn) bool {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return false
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return false
	}
	var rev int16
	if rc.Control(func(fd uintptr) { rev = pollOnce(fd, 0) }) != nil {
		return false
	}
	return rev&0x0001 != 0 // POLLERR
}

// pollOnce is WSAPoll of one socket for POLLRDNORM with timeout ms; it returns revents.
func pollOnce(fd uintptr, ms int) int16 {
	p := struct {
		fd      uintptr
		events  int16
		revents int16
	}{fd: fd, events: 0x0100} // POLLRDNORM
	_, _, _ = syscall.SyscallN(procWSAPoll.Addr(), uintptr(unsafe.Pointer(&p)), 1, uintptr(ms))
	return p.revents
}

// writeSeesReset writes to c, the peer of a connection the provider reset after c read
// its FIN, until the reset shows: Windows reports it to the write (WSAECONNRESET), Wine
// may not (see pollsReset), and its close completes in its server after closesocket
// returned, so the RST can come a moment after the close. Bounded by waitLimit.
func writeSeesReset(t testing.TB, c net.Conn) error {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		_, err := c.Write([]byte("x"))
		switch {
		case isReset(err), err == nil && pollsReset(c):
			return nil
		case err != nil:
			return fmt.Errorf("the write after the reset returned %v", err)
		case time.Now().After(deadline):
			return fmt.Errorf("no reset within %v", waitLimit)
		}
		time.Sleep(time.Millisecond)
	}
}

// soError reads SO_ERROR of the peer's socket.
func soError(t *testing.T, c net.Conn) int {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)
	var v int
	require.NoError(t, rc.Control(func(fd uintptr) {
		v, err = windows.GetsockoptInt(windows.Handle(fd), windows.SOL_SOCKET, 0x1007) // SO_ERROR
	}))
	require.NoError(t, err)
	return v
}

var procWSAPoll = windows.NewLazySystemDLL("ws2_32.dll").NewProc("WSAPoll")

// waitReadable waits until socket fd polls readable (a listener: a connection is queued).
func waitReadable(t testing.TB, fd int) {
	t.Helper()
	require.NotZero(t, pollOnce(uintptr(fd), int(waitLimit.Milliseconds())), "socket never readable")
}

// killListener: Windows has no call that stops a listener but keeps its handle (shutdown
// does nothing to it).
func killListener(t *testing.T, _ int) {
	t.Helper()
	missingFixture(t, fixKillListener)
}
