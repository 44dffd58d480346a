//go:build unix || windows

package wsk

import (
	"net/netip"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/internal/sock"
)

// osFamily maps a WSK address family (Windows numbering; for IPv6 also Linux's 10 and
// the OS's own AF_INET6) to the OS's; 0 for an unsupported family.
func osFamily(family int) int {
	switch {
	case family == AFInet:
		return sock.AFInet
	case family == AFInet6 || family == afInet6Linux || family == sock.AFInet6:
		return sock.AFInet6
	}
	return 0
}

// afInet6Linux is Linux's AF_INET6, which WskSocket takes on every OS (package doc).
const afInet6Linux = 10

// familyOf is the OS family an address needs (IPv4 for v4 and v4-mapped addresses).
func familyOf(a netip.AddrPort) int {
	if a.Addr().Unmap().Is4() {
		return sock.AFInet
	}
	return sock.AFInet6
}

// checkAddr says whether a socket of family can take a: the zero AddrPort is the
// wildcard address, port 0 (bind's "any"); an IPv4 address on an IPv6 socket becomes
// v4-mapped; an IPv6 address on an IPv4 socket is STATUS_INVALID_PARAMETER.
func checkAddr(family int, a netip.AddrPort) irp.Status {
	switch family {
	case sock.AFInet:
		if a.IsValid() && !a.Addr().Unmap().Is4() {
			return irp.InvalidParameter
		}
		return irp.Success
	case sock.AFInet6:
		return irp.Success
	}
	return irp.InvalidParameter
}
