//go:build linux

package sock

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Sockets and accepted connections are born nonblocking and close-on-exec in one call.
// The accept path's calls are raw (see io_linux.go for why) with the address on the
// stack (addr_linux.go): taking a connection allocates nothing but the provider's own
// records.

// Socket creates a nonblocking, close-on-exec socket.
func Socket(family, sotype, proto int) (int, error) {
	return unix.Socket(family, sotype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
}

// Accept takes a connection from the listener's queue (accept4 with SOCK_NONBLOCK|
// SOCK_CLOEXEC) and returns it with the peer's address.
func Accept(lfd int) (int, netip.AddrPort, error) {
	var rsa unix.RawSockaddrAny
	n := uint32(unix.SizeofSockaddrAny)
	for {
		nfd, _, e := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(lfd), uintptr(unsafe.Pointer(&rsa)),
			uintptr(unsafe.Pointer(&n)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		switch e {
		case 0:
			return int(nfd), rawAddrPort(&rsa), nil
		case unix.EINTR:
			continue
		}
		return -1, netip.AddrPort{}, e
	}
}

// LocalAddr is getsockname(2).
func LocalAddr(fd int) (netip.AddrPort, error) { return sockName(unix.SYS_GETSOCKNAME, fd) }

// PeerAddr is getpeername(2).
func PeerAddr(fd int) (netip.AddrPort, error) { return sockName(unix.SYS_GETPEERNAME, fd) }

func sockName(trap uintptr, fd int) (netip.AddrPort, error) {
	var rsa unix.RawSockaddrAny
	n := uint32(unix.SizeofSockaddrAny)
	_, _, e := unix.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&n)))
	if e != 0 {
		return netip.AddrPort{}, e
	}
	return rawAddrPort(&rsa), nil
}

// acceptTransient reports an accept error, beyond the ones every Unix reports, that
// belongs to the connection that died in the queue: ENONET.
func acceptTransient(err error) bool { return err == unix.ENONET }

// ioctlInq is the ioctl that returns the bytes waiting in a socket's receive queue.
const ioctlInq = unix.SIOCINQ
