//go:build unix

package sock

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// toSockaddr converts a for a socket of family: the zero AddrPort is the wildcard address,
// port 0; an IPv4 address on an IPv6 socket becomes v4-mapped; an IPv6 address on an IPv4
// socket, or an unknown family, is EINVAL.
func toSockaddr(family int, a netip.AddrPort) (unix.Sockaddr, error) {
	addr := a.Addr()
	switch family {
	case unix.AF_INET:
		if !a.IsValid() {
			return &unix.SockaddrInet4{}, nil
		}
		if !addr.Unmap().Is4() {
			return nil, unix.EINVAL
		}
		return &unix.SockaddrInet4{Port: int(a.Port()), Addr: addr.Unmap().As4()}, nil
	case unix.AF_INET6:
		if !a.IsValid() {
			return &unix.SockaddrInet6{}, nil
		}
		return &unix.SockaddrInet6{Port: int(a.Port()), Addr: addr.As16()}, nil
	}
	return nil, unix.EINVAL
}
