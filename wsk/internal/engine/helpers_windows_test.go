//go:build windows

package engine

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
)

// procAccept is ws2_32's accept, which golang.org/x/sys/windows does not wrap.
var procAccept = windows.NewLazySystemDLL("ws2_32.dll").NewProc("accept")

// newSocket returns a TCP (stream) or UDP socket, not inheritable.
func newSocket(t testing.TB, typ int32) windows.Handle {
	t.Helper()
	proto := int32(windows.IPPROTO_TCP)
	if typ == windows.SOCK_DGRAM {
		proto = windows.IPPROTO_UDP
	}
	h, err := windows.WSASocket(windows.AF_INET, typ, proto, nil, 0,
		windows.WSA_FLAG_OVERLAPPED|windows.WSA_FLAG_NO_HANDLE_INHERIT)
	require.NoError(t, err)
	return h
}

// tcpPair returns two connected loopback TCP sockets (their handles as int), both
// non-blocking, owned by the test like the Unix tcpPair's descriptors. They are raw
// Winsock sockets, not the net package's: those belong to the runtime's completion port
// and are in blocking mode.
func tcpPair(t testing.TB) (a, b int) {
	t.Helper()
	ln := newSocket(t, windows.SOCK_STREAM)
	defer windows.Closesocket(ln)
	require.NoError(t, windows.Bind(ln, &windows.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, windows.Listen(ln, 1))
	addr, err := windows.Getsockname(ln)
	require.NoError(t, err)
	c := newSocket(t, windows.SOCK_STREAM)
	require.NoError(t, windows.Connect(c, addr)) // blocking: the backlog completes it
	r, _, err := procAccept.Call(uintptr(ln), 0, 0)
	s := windows.Handle(r)
	require.NotEqual(t, windows.InvalidHandle, s, "accept: %v", err)
	require.NoError(t, setNonblock(c, true))
	require.NoError(t, setNonblock(s, true))
	return int(c), int(s)
}

// The socket operations the tests that run on every OS use, in Winsock. sockRead returns
// (0, nil) at EOF, as read(2) does.
func sockRead(fd int, p []byte) (int, error) {
	var n, flags uint32
	buf := windows.WSABuf{Len: uint32(len(p)), Buf: &p[0]}
	err := windows.WSARecv(windows.Handle(fd), &buf, 1, &n, &flags, nil, nil)
	return int(n), err
}

func sockWrite(fd int, p []byte) (int, error) {
	var n uint32
	buf := windows.WSABuf{Len: uint32(len(p)), Buf: &p[0]}
	err := windows.WSASend(windows.Handle(fd), &buf, 1, &n, 0, nil, nil)
	return int(n), err
}

func sockClose(fd int) error    { return windows.Closesocket(windows.Handle(fd)) }
func wouldBlock(err error) bool { return errors.Is(err, windows.WSAEWOULDBLOCK) }

func isReset(err error) bool {
	return errors.Is(err, windows.WSAECONNRESET) || errors.Is(err, windows.WSAECONNABORTED)
}

// setLingerZero sets SO_LINGER {1, 0}: the last closesocket resets the connection.
func setLingerZero(fd int) error {
	return windows.SetsockoptLinger(windows.Handle(fd), windows.SOL_SOCKET, windows.SO_LINGER,
		&windows.Linger{Onoff: 1, Linger: 0})
}

// peerReset waits until the connection of fd ends and returns nil if it ended with a
// reset, an error saying how it ended otherwise. It leaves fd blocking. Windows reports a
// reset to the read (WSAECONNRESET); Wine 8 reports it as an end of stream (0 bytes, no
// error), so that answer is checked with a send, which fails at once after a reset but
// succeeds after a FIN (the peer's reset to the data comes later).
func peerReset(fd int) error {
	if err := setNonblock(windows.Handle(fd), false); err != nil {
		return err
	}
	var buf [8]byte
	n, err := sockRead(fd, buf[:])
	if isReset(err) {
		return nil
	}
	if n != 0 || err != nil {
		return fmt.Errorf("read returned %d, %v: no reset", n, err)
	}
	if _, err := sockWrite(fd, buf[:1]); !isReset(err) {
		return fmt.Errorf("end of stream, then a send returned %v: a FIN, no reset", err)
	}
	return nil
}

// waitersPerFD is the number of Stats.Waiters goroutines a registration costs: none on
// Windows, where one poller per loop watches every socket.
const waitersPerFD = 0
