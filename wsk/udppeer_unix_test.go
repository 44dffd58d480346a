//go:build unix

package wsk

import (
	"net"
	"net/netip"
)

// udpConn is the tests' plain UDP peer: package net's (udppeer_windows_test.go has the
// Windows one).
type udpConn = net.UDPConn

// listenUDP opens a peer bound to a and returns it with its address.
func listenUDP(a netip.AddrPort) (*udpConn, netip.AddrPort, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(a))
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	return c, c.LocalAddr().(*net.UDPAddr).AddrPort(), nil
}
