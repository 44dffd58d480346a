//go:build windows

package sock

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Addresses travel as raw SOCKADDR_IN and SOCKADDR_IN6 records on the caller's stack,
// converted to and from netip.AddrPort (a value) at once: nothing is allocated.

// rawAddrPort converts an IPv4 or IPv6 socket address, unmapping v4-mapped addresses
// (the port is in network byte order in the raw record).
func rawAddrPort(rsa *windows.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case windows.AF_INET:
		sa := (*windows.RawSockaddrInet4)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(p[0])<<8|uint16(p[1]))
	case windows.AF_INET6:
		sa := (*windows.RawSockaddrInet6)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(p[0])<<8|uint16(p[1]))
	}
	return netip.AddrPort{}
}

// putRawAddr writes a into rsa for a socket of family and returns the record's length:
// the zero AddrPort is the wildcard address, port 0; an IPv4 address on an IPv6 socket
// becomes v4-mapped (the provider's IPv6 sockets are dual-stack); an IPv6 address on an
// IPv4 socket, or an unknown family, is WSAEINVAL.
func putRawAddr(rsa *windows.RawSockaddrAny, family int, a netip.AddrPort) (int32, error) {
	switch family {
	case windows.AF_INET:
		if a.IsValid() && !a.Addr().Unmap().Is4() {
			return 0, windows.WSAEINVAL
		}
		sa := (*windows.RawSockaddrInet4)(unsafe.Pointer(rsa))
		sa.Family = windows.AF_INET
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		p[0], p[1] = byte(a.Port()>>8), byte(a.Port())
		if a.IsValid() {
			sa.Addr = a.Addr().Unmap().As4()
		}
		return int32(unsafe.Sizeof(*sa)), nil
	case windows.AF_INET6:
		sa := (*windows.RawSockaddrInet6)(unsafe.Pointer(rsa))
		sa.Family = windows.AF_INET6
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		p[0], p[1] = byte(a.Port()>>8), byte(a.Port())
		if a.IsValid() {
			sa.Addr = a.Addr().As16()
		}
		return int32(unsafe.Sizeof(*sa)), nil
	}
	return 0, windows.WSAEINVAL
}
