package wsk

import (
	"encoding/binary"
	"net/netip"
)

// The IOCTLs SIO_WSK_SET_REMOTE_ADDRESS and SIO_WSK_SET_SENDTO_ADDRESS take a SOCKADDR in
// their input buffer, laid out as Windows does: SOCKADDR_IN (16 bytes: family 2 little
// endian, port big endian, 4 address bytes, 8 zero bytes) or SOCKADDR_IN6 (28 bytes:
// family 23, port, flow info, 16 address bytes, scope id). These two helpers build and
// read that layout so Go callers need not.

// SockaddrBytes encodes a as a Windows SOCKADDR_IN (IPv4 and v4-mapped addresses) or
// SOCKADDR_IN6. The zero AddrPort gives nil (an input of size 0 clears the address).
func SockaddrBytes(a netip.AddrPort) []byte {
	if !a.IsValid() {
		return nil
	}
	if ip := a.Addr().Unmap(); ip.Is4() {
		b := make([]byte, 16)
		binary.LittleEndian.PutUint16(b, AFInet)
		binary.BigEndian.PutUint16(b[2:], a.Port())
		v := ip.As4()
		copy(b[4:], v[:])
		return b
	}
	b := make([]byte, 28)
	binary.LittleEndian.PutUint16(b, AFInet6)
	binary.BigEndian.PutUint16(b[2:], a.Port())
	v := a.Addr().As16()
	copy(b[8:], v[:])
	return b
}

// ParseSockaddr decodes what SockaddrBytes encodes; ok is false for a short buffer or an
// unknown family. The scope id of an IPv6 address is ignored.
func ParseSockaddr(b []byte) (a netip.AddrPort, ok bool) {
	if len(b) < 8 {
		return netip.AddrPort{}, false
	}
	port := binary.BigEndian.Uint16(b[2:])
	switch binary.LittleEndian.Uint16(b) {
	case AFInet:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port), true
	case AFInet6:
		if len(b) < 24 {
			return netip.AddrPort{}, false
		}
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])), port), true
	}
	return netip.AddrPort{}, false
}
