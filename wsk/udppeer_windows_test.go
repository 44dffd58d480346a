//go:build windows

package wsk

import (
	"net/netip"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// udpConn is the tests' plain UDP peer on Windows: a blocking Winsock socket. Package
// net's UDP sockets cannot serve: they refuse to open where the stack does not know
// SIO_UDP_NETRESET (Wine 8). It has the methods of *net.UDPConn the tests use.
type udpConn struct {
	h      windows.Handle
	family int
	mu     sync.Mutex
	closed bool
}

// listenUDP opens a peer bound to a and returns it with its address.
func listenUDP(a netip.AddrPort) (*udpConn, netip.AddrPort, error) {
	fam := windows.AF_INET
	if a.Addr().Is6() {
		fam = windows.AF_INET6
	}
	h, err := windows.Socket(fam, windows.SOCK_DGRAM, windows.IPPROTO_UDP)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	c := &udpConn{h: h, family: fam}
	if err := windows.Bind(h, c.sockaddr(a)); err != nil {
		c.Close()
		return nil, netip.AddrPort{}, err
	}
	sa, err := windows.Getsockname(h)
	if err != nil {
		c.Close()
		return nil, netip.AddrPort{}, err
	}
	return c, addrPortOf(sa), nil
}

func (c *udpConn) sockaddr(a netip.AddrPort) windows.Sockaddr {
	if c.family == windows.AF_INET {
		return &windows.SockaddrInet4{Port: int(a.Port()), Addr: a.Addr().Unmap().As4()}
	}
	return &windows.SockaddrInet6{Port: int(a.Port()), Addr: a.Addr().As16()}
}

func addrPortOf(sa windows.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *windows.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *windows.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

// WriteToUDPAddrPort sends b as one datagram to to.
func (c *udpConn) WriteToUDPAddrPort(b []byte, to netip.AddrPort) (int, error) {
	if err := windows.Sendto(c.h, b, 0, c.sockaddr(to)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// ReadFromUDPAddrPort waits for one datagram (until the read deadline).
func (c *udpConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	n, from, err := windows.Recvfrom(c.h, b, 0)
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	return n, addrPortOf(from), nil
}

// SetReadDeadline bounds the next reads (SO_RCVTIMEO, from now on: the tests set it
// just before they read).
func (c *udpConn) SetReadDeadline(d time.Time) error {
	ms := uint32(max(time.Until(d).Milliseconds(), 1))
	return windows.Setsockopt(c.h, windows.SOL_SOCKET, 0x1006, (*byte)(unsafe.Pointer(&ms)), 4) // SO_RCVTIMEO
}

// Close closes the socket (once).
func (c *udpConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	return windows.Closesocket(c.h)
}
