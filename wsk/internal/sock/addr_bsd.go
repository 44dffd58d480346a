//go:build unix && !linux

package sock

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// fromSockaddr converts an address the wrappers return (toSockaddr's inverse), unmapping
// v4-mapped addresses; the zero value for anything but IPv4 and IPv6.
func fromSockaddr(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port))
	}
	return netip.AddrPort{}
}
