//go:build unix && !linux

package sock

import (
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// The other Unix systems (macOS, the BSDs, ...) have no SOCK_NONBLOCK|SOCK_CLOEXEC on
// every version Go supports, nor accept4: the socket is made, then set close-on-exec
// and nonblocking, under syscall.ForkLock so that no exec in between inherits it (as
// package net does). The calls go through the ordinary wrappers (libSystem on macOS,
// libc on OpenBSD, where raw system calls are deprecated or refused).

// Socket creates a nonblocking, close-on-exec socket.
func Socket(family, sotype, proto int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(family, sotype, proto)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	return fd, prepareFD(fd)
}

// Accept takes a connection from the listener's queue, nonblocking and close-on-exec,
// and returns it with the peer's address.
func Accept(lfd int) (int, netip.AddrPort, error) {
	syscall.ForkLock.RLock()
	nfd, sa, err := unix.Accept(lfd)
	if err == nil {
		unix.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	if err := prepareFD(nfd); err != nil {
		return -1, netip.AddrPort{}, err
	}
	return nfd, fromSockaddr(sa), nil
}

// prepareFD makes a new descriptor nonblocking (and, where needed, quiet on SIGPIPE);
// on failure it closes it.
func prepareFD(fd int) error {
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return err
	}
	if err := noSigpipe(fd); err != nil {
		_ = unix.Close(fd)
		return err
	}
	return nil
}

// LocalAddr is getsockname(2).
func LocalAddr(fd int) (netip.AddrPort, error) {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return fromSockaddr(sa), nil
}

// PeerAddr is getpeername(2).
func PeerAddr(fd int) (netip.AddrPort, error) {
	sa, err := unix.Getpeername(fd)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return fromSockaddr(sa), nil
}

// acceptTransient: no errors beyond the ones every Unix reports.
func acceptTransient(error) bool { return false }

// ioctlInq is FIONREAD, the ioctl that returns the bytes waiting in a socket's receive
// queue: _IOR('f', 127, int), the same number on every BSD, macOS, illumos and AIX
// (golang.org/x/sys/unix does not name it outside Linux).
const ioctlInq = 0x4004667f
