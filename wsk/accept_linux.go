//go:build linux

package wsk

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The accept path's system calls, written so that taking a connection allocates nothing
// but the connection's own records: unix.Accept4 and unix.Getsockname return their
// addresses as a heap Sockaddr (with a heap RawSockaddrAny behind it), about 280 bytes of
// garbage per connection. Here the raw address stays on the stack and is converted to a
// netip.AddrPort (a value) at once. Both calls are raw: on a nonblocking listener accept4
// never blocks (see rawRead for why the provider's per-request calls are raw).

// acceptRaw is accept4(2) with SOCK_NONBLOCK|SOCK_CLOEXEC; it returns the new descriptor
// and the peer's address.
func acceptRaw(lfd int) (int, netip.AddrPort, error) {
	var rsa unix.RawSockaddrAny
	n := uint32(unix.SizeofSockaddrAny)
	nfd, _, e := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(lfd), uintptr(unsafe.Pointer(&rsa)),
		uintptr(unsafe.Pointer(&n)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if e != 0 {
		return -1, netip.AddrPort{}, e
	}
	return int(nfd), rawAddrPort(&rsa), nil
}

// localAddrRaw is getsockname(2) as a netip.AddrPort (the zero value on error).
func localAddrRaw(fd int) netip.AddrPort {
	var rsa unix.RawSockaddrAny
	n := uint32(unix.SizeofSockaddrAny)
	_, _, e := unix.RawSyscall(unix.SYS_GETSOCKNAME, uintptr(fd), uintptr(unsafe.Pointer(&rsa)),
		uintptr(unsafe.Pointer(&n)))
	if e != 0 {
		return netip.AddrPort{}
	}
	return rawAddrPort(&rsa)
}

// peerAddrRaw is getpeername(2) as a netip.AddrPort (the zero value on error).
func peerAddrRaw(fd int) netip.AddrPort {
	var rsa unix.RawSockaddrAny
	n := uint32(unix.SizeofSockaddrAny)
	_, _, e := unix.RawSyscall(unix.SYS_GETPEERNAME, uintptr(fd), uintptr(unsafe.Pointer(&rsa)),
		uintptr(unsafe.Pointer(&n)))
	if e != 0 {
		return netip.AddrPort{}
	}
	return rawAddrPort(&rsa)
}

// rawAddrPort converts an IPv4 or IPv6 socket address as fromSockaddr does (v4-mapped
// addresses unmapped; the port is in network byte order in the raw record).
func rawAddrPort(rsa *unix.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(p[0])<<8|uint16(p[1]))
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(p[0])<<8|uint16(p[1]))
	}
	return netip.AddrPort{}
}
