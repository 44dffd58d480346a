//go:build unix && !linux

package wsk

import (
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// The other Unix systems (macOS, the BSDs, ...) have no SOCK_NONBLOCK|SOCK_CLOEXEC on
// every version Go supports, nor accept4: the socket is made, then set close-on-exec
// and nonblocking, under syscall.ForkLock so that no exec in between inherits it (as
// package net does).

// ioctlInq is FIONREAD, the ioctl that returns the bytes waiting in a socket's receive
// queue: _IOR('f', 127, int), the same number on every BSD, macOS, illumos and AIX
// (golang.org/x/sys/unix does not name it outside Linux).
const ioctlInq = 0x4004667f

// sysSocket creates a nonblocking, close-on-exec socket.
func sysSocket(family, sotype, proto int) (int, error) {
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

// sysAccept takes a connection from fd's queue, nonblocking and close-on-exec.
func sysAccept(fd int) (int, unix.Sockaddr, error) {
	syscall.ForkLock.RLock()
	nfd, sa, err := unix.Accept(fd)
	if err == nil {
		unix.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, nil, err
	}
	return nfd, sa, prepareFD(nfd)
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

// acceptTransient: no errors beyond the ones every Unix reports.
func acceptTransient(error) bool { return false }

// acceptRaw is sysAccept with the peer's address as a netip.AddrPort (accept_linux.go
// has Linux's allocation-free form).
func acceptRaw(lfd int) (int, netip.AddrPort, error) {
	nfd, sa, err := sysAccept(lfd)
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	return nfd, fromSockaddr(sa), nil
}

// localAddrRaw is getsockname(2) as a netip.AddrPort (the zero value on error).
func localAddrRaw(fd int) netip.AddrPort {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return netip.AddrPort{}
	}
	return fromSockaddr(sa)
}

// peerAddrRaw is getpeername(2) as a netip.AddrPort (the zero value on error).
func peerAddrRaw(fd int) netip.AddrPort {
	sa, err := unix.Getpeername(fd)
	if err != nil {
		return netip.AddrPort{}
	}
	return fromSockaddr(sa)
}
