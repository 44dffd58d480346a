//go:build unix

package sock

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

//lint:file-ignore SA1019 connectUnspec: no libc wrapper of connect(2) takes AF_UNSPEC (macOS)

// The OS's numbers for what the provider creates.
const (
	AFInet     = unix.AF_INET
	AFInet6    = unix.AF_INET6
	SockStream = unix.SOCK_STREAM
	SockDgram  = unix.SOCK_DGRAM
	IPProtoTCP = unix.IPPROTO_TCP
	IPProtoUDP = unix.IPPROTO_UDP
)

// Close closes the descriptor.
func Close(fd int) error { return unix.Close(fd) }

// Bind binds fd, a socket of family, to a; the zero AddrPort is the wildcard address and
// an ephemeral port.
func Bind(fd, family int, a netip.AddrPort) error {
	sa, err := toSockaddr(family, a)
	if err != nil {
		return err
	}
	return unix.Bind(fd, sa)
}

// Listen makes a bound stream socket listen, with the largest backlog the OS gives
// (SOMAXCONN, which Linux clamps to net.core.somaxconn): WSK has no backlog parameter.
func Listen(fd int) error { return unix.Listen(fd, unix.SOMAXCONN) }

// PrepareListener sets what a listening socket needs before Bind: SO_REUSEADDR, without
// which Unix refuses to bind a port whose old connections sit in TIME_WAIT (Windows
// allows that by default; Go's net.Listen sets it too).
func PrepareListener(fd int) error {
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
}

// Connect starts connecting fd, a socket of family, to a. On a nonblocking stream socket
// an error that IsInProgress reports means the connect goes on: ConnectResult, once the
// socket turns writable, says how it ended.
func Connect(fd, family int, a netip.AddrPort) error {
	sa, err := toSockaddr(family, a)
	if err != nil {
		return err
	}
	return unix.Connect(fd, sa)
}

// Shutdown shuts the write side of a connection down: the peer gets FIN.
func Shutdown(fd int) error { return unix.Shutdown(fd, unix.SHUT_WR) }

// SetLingerZero sets SO_LINGER {1, 0}: the close that follows sends RST. The provider never
// sets a positive linger: on Linux that makes close(2) block an OS thread for the linger
// time, and the kernel still does not abort when it expires.
func SetLingerZero(fd int) {
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
}

// Reset sends RST on a connected TCP socket without closing the descriptor, so that its
// number cannot be reused under a socket the application still holds: SO_LINGER {1, 0},
// then connect(AF_UNSPEC), which on Linux runs tcp_disconnect (a reset in any
// synchronized state). The BSDs may refuse that connect; then the reset goes out at
// Close, as the linger is set.
func Reset(fd int) {
	SetLingerZero(fd)
	connectUnspec(fd)
}

// Dissociate dissolves a UDP socket's association (Connect): it takes datagrams from any
// source again, on the address and port it had. family is the socket's.
//
// Linux forgets the port at the disconnect when the kernel chose it (bind to port 0: only
// a port the caller named is locked), and the socket would receive nothing more; the
// address it was bound to stays. So the port is bound again, with that address: an error
// then (another socket took the port meanwhile) is Dissociate's.
func Dissociate(fd, family int) error {
	before, err := LocalAddr(fd)
	connectUnspec(fd)
	if err != nil || before.Port() == 0 {
		return nil
	}
	if after, err := LocalAddr(fd); err == nil && after.Port() == 0 {
		return Bind(fd, family, netip.AddrPortFrom(after.Addr(), before.Port()))
	}
	return nil
}

// connectUnspec is connect(2) with an AF_UNSPEC address. No wrapper takes one, hence the
// system call.
func connectUnspec(fd int) {
	var sa unix.RawSockaddr // Family 0 == AF_UNSPEC; Len 0 on the BSDs
	_, _, _ = unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
}
