//go:build unix

package wsk

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/gowsk/gowsk/irp"
)

// osFamily maps a WSK address family (Windows numbering, or Linux's AF_INET6) to Linux's;
// 0 for an unsupported family.
func osFamily(family int) int {
	switch family {
	case AFInet:
		return unix.AF_INET
	case AFInet6, unix.AF_INET6:
		return unix.AF_INET6
	}
	return 0
}

// familyOf is the Linux family an address needs (IPv4 for v4 and v4-mapped addresses).
func familyOf(a netip.AddrPort) int {
	if a.Addr().Unmap().Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// toSockaddr converts a for a socket of family. The zero AddrPort is the wildcard
// address, port 0 (bind's "any"). An IPv4 address on an IPv6 socket becomes v4-mapped;
// an IPv6 address on an IPv4 socket is STATUS_INVALID_PARAMETER.
func toSockaddr(family int, a netip.AddrPort) (unix.Sockaddr, irp.Status) {
	addr := a.Addr()
	switch family {
	case unix.AF_INET:
		if !a.IsValid() {
			return &unix.SockaddrInet4{}, irp.Success
		}
		if !addr.Unmap().Is4() {
			return nil, irp.InvalidParameter
		}
		return &unix.SockaddrInet4{Port: int(a.Port()), Addr: addr.Unmap().As4()}, irp.Success
	case unix.AF_INET6:
		if !a.IsValid() {
			return &unix.SockaddrInet6{}, irp.Success
		}
		return &unix.SockaddrInet6{Port: int(a.Port()), Addr: addr.As16()}, irp.Success
	}
	return nil, irp.InvalidParameter
}

// fromSockaddr converts back; v4-mapped addresses are unmapped, so a dual-stack socket
// reports 127.0.0.1 rather than ::ffff:127.0.0.1.
func fromSockaddr(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port))
	}
	return netip.AddrPort{}
}
