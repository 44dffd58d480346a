//go:build unix && !linux

package sock

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// The per-request calls outside Linux go through the ordinary wrappers (libSystem on
// macOS, libc on OpenBSD, where raw system calls are deprecated or refused).

// read is read(2); (0, nil) is EOF.
func read(fd int, b []byte) (int, error) {
	n, err := unix.Read(fd, b)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// peek is recv(2) with MSG_PEEK|MSG_DONTWAIT.
func peek(fd int, b []byte) (int, error) {
	n, _, err := unix.Recvfrom(fd, b, unix.MSG_PEEK|unix.MSG_DONTWAIT)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// sendOne is send(2) of one buffer without SIGPIPE (msgNoSignal, SO_NOSIGPIPE).
func sendOne(fd int, b []byte) (int, error) {
	return unix.SendmsgN(fd, b, nil, nil, msgNoSignal)
}

// recvBuffers is recvmsg(2) into the segments, without source address or control data.
func recvBuffers(fd int, segs [][]byte) (int, error) {
	n, _, _, _, err := unix.RecvmsgBuffers(fd, segs, nil, 0)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// sendBuffers is sendmsg(2) of the segments without SIGPIPE.
func sendBuffers(fd int, segs [][]byte) (int, error) {
	n, err := unix.SendmsgBuffers(fd, segs, nil, nil, msgNoSignal)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// RecvFrom reads one datagram into b (the rest of a longer one is lost) and returns its
// length and source. ECONNREFUSED, the ICMP error of an earlier send reported once on the
// next call, belongs to no receive and is skipped.
func RecvFrom(fd int, b []byte) (int, netip.AddrPort, error) {
	for {
		n, _, _, from, err := unix.Recvmsg(fd, b, nil, 0)
		switch err {
		case nil:
			return n, fromSockaddr(from), nil
		case unix.EINTR, unix.ECONNREFUSED:
			continue
		}
		return 0, netip.AddrPort{}, err
	}
}

// SendTo sends the segments (at most MaxSegs) as one datagram to a, from a socket of
// family.
func SendTo(fd, family int, segs [][]byte, a netip.AddrPort) (int, error) {
	to, err := toSockaddr(family, a)
	if err != nil {
		return 0, err
	}
	if p, ok := single(segs); ok {
		return ignoringEINTR(func() (int, error) { return unix.SendmsgN(fd, p, nil, to, msgNoSignal) })
	}
	return ignoringEINTR(func() (int, error) { return unix.SendmsgBuffers(fd, segs, nil, to, msgNoSignal) })
}
