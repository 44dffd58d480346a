package netconn

import (
	"context"
	"net"
	"net/netip"
	"strconv"

	"github.com/gowsk/gowsk/wsk"
)

// netKind is what a network name asks for: the transport and the address families.
type netKind struct {
	udp      bool
	only4    bool
	only6    bool
	protocol int
}

func parseNetwork(network string) (netKind, error) {
	switch network {
	case "tcp":
		return netKind{protocol: wsk.IPProtoTCP}, nil
	case "tcp4":
		return netKind{only4: true, protocol: wsk.IPProtoTCP}, nil
	case "tcp6":
		return netKind{only6: true, protocol: wsk.IPProtoTCP}, nil
	case "udp":
		return netKind{udp: true, protocol: wsk.IPProtoUDP}, nil
	case "udp4":
		return netKind{udp: true, only4: true, protocol: wsk.IPProtoUDP}, nil
	case "udp6":
		return netKind{udp: true, only6: true, protocol: wsk.IPProtoUDP}, nil
	}
	return netKind{}, net.UnknownNetworkError(network)
}

func (k netKind) accepts(a netip.Addr) bool {
	return !(k.only4 && !a.Is4()) && !(k.only6 && a.Is4())
}

// family is the WSK address family of a socket for a.
func family(a netip.Addr) int {
	if a.Is4() {
		return wsk.AFInet
	}
	return wsk.AFInet6
}

// resolve turns host:port into the addresses to try, in the resolver's order. An empty
// host is the wildcard for a listener (IPv6 dual-stack for "tcp"/"udp", as net does) and
// the loopback address for a dial.
func resolve(ctx context.Context, k netKind, address string, listen bool) ([]netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	pn, err := lookupPort(ctx, k, port)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	switch {
	case host == "" && listen:
		if k.only4 {
			addrs = []netip.Addr{netip.IPv4Unspecified()}
		} else {
			addrs = []netip.Addr{netip.IPv6Unspecified()}
		}
	case host == "":
		if k.only6 {
			addrs = []netip.Addr{netip.IPv6Loopback()}
		} else {
			addrs = []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1})}
		}
	default:
		if a, err := netip.ParseAddr(host); err == nil {
			addrs = []netip.Addr{a.WithZone("")}
		} else {
			ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			if err != nil {
				return nil, err
			}
			addrs = ips
		}
	}
	var out []netip.AddrPort
	for _, a := range addrs {
		a = a.Unmap()
		if k.accepts(a) {
			out = append(out, netip.AddrPortFrom(a, pn))
		}
	}
	if len(out) == 0 {
		return nil, &net.AddrError{Err: "no suitable address found", Addr: host}
	}
	return out, nil
}

func lookupPort(ctx context.Context, k netKind, port string) (uint16, error) {
	if n, err := strconv.ParseUint(port, 10, 16); err == nil {
		return uint16(n), nil
	}
	nw := "tcp"
	if k.udp {
		nw = "udp"
	}
	n, err := net.DefaultResolver.LookupPort(ctx, nw, port)
	if err != nil {
		return 0, err
	}
	return uint16(n), nil
}

// tcpAddrOf and udpAddrOf convert a net.Addr a user passed (LocalAddr, WriteTo).
func addrPortOf(a net.Addr) (netip.AddrPort, bool) {
	switch a := a.(type) {
	case *net.TCPAddr:
		return unmap(a.AddrPort()), a != nil
	case *net.UDPAddr:
		return unmap(a.AddrPort()), a != nil
	}
	return netip.AddrPort{}, false
}

// resolveListen parses network (UDP ones if udp, else TCP ones) and resolves address for
// a listener; the error is the *net.OpError to return.
func resolveListen(network, address string, udp bool) (netKind, []netip.AddrPort, error) {
	k, err := parseNetwork(network)
	if err == nil && k.udp != udp {
		err = net.UnknownNetworkError(network)
	}
	var addrs []netip.AddrPort
	if err == nil {
		addrs, err = resolve(context.Background(), k, address, true)
	}
	if err != nil {
		return k, nil, opErr("listen", network, nil, nil, err)
	}
	return k, addrs, nil
}
