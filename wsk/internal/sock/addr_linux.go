//go:build linux

package sock

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The raw address records of Linux's allocation-free calls (io_linux.go, socket_linux.go):
// unix.Accept4, unix.Getsockname and unix.Recvfrom return their addresses as a heap
// Sockaddr (with a heap RawSockaddrAny behind it), about 280 bytes of garbage per call.
// Here the record stays on the caller's stack and is converted to a netip.AddrPort (a
// value) at once.

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

// putRawAddr writes a into rsa as toSockaddr would convert it for family and returns the
// record's length (EINVAL as toSockaddr).
func putRawAddr(rsa *unix.RawSockaddrAny, family int, a netip.AddrPort) (uint32, error) {
	switch family {
	case unix.AF_INET:
		if a.IsValid() && !a.Addr().Unmap().Is4() {
			return 0, unix.EINVAL
		}
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		sa.Family = unix.AF_INET
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		p[0], p[1] = byte(a.Port()>>8), byte(a.Port())
		if a.IsValid() {
			sa.Addr = a.Addr().Unmap().As4()
		}
		return unix.SizeofSockaddrInet4, nil
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		sa.Family = unix.AF_INET6
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		p[0], p[1] = byte(a.Port()>>8), byte(a.Port())
		if a.IsValid() {
			sa.Addr = a.Addr().As16()
		}
		return unix.SizeofSockaddrInet6, nil
	}
	return 0, unix.EINVAL
}
