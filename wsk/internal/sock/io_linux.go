//go:build linux

package sock

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The per-request calls on a nonblocking socket are raw system calls: they never block,
// so they skip the scheduler's entersyscall/exitsyscall. With the ordinary wrapper, a
// call that the host delays past a sysmon tick (20 µs) has its P handed off and must win
// one back on return, and each such hand-off keeps sysmon at its fastest polling rate;
// both showed in the echo server's profile. Their vectors and addresses are on the stack:
// unix.RecvmsgBuffers, SendmsgBuffers and Recvfrom would allocate them at every call.

// read is read(2); (0, nil) is EOF.
func read(fd int, b []byte) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(p), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// peek is recv(2) with MSG_PEEK|MSG_DONTWAIT and no source address.
func peek(fd int, b []byte) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	n, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(p), uintptr(len(b)),
		unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// sendOne is send(2) of one buffer with MSG_NOSIGNAL: sendto with no address, which the
// kernel takes without sendmsg's msghdr and iovec copies. write(2) would be cheaper still
// but raises SIGPIPE on a reset peer. (sendTo with a nil address would do, at a few more
// instructions per call on the echo path.)
func sendOne(fd int, b []byte) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	n, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(p), uintptr(len(b)), msgNoSignal, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// sendTo is sendto(2) with MSG_NOSIGNAL to the address rsa.
func sendTo(fd int, b []byte, rsa *unix.RawSockaddrAny, salen uint32) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	n, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(p), uintptr(len(b)),
		msgNoSignal, uintptr(unsafe.Pointer(rsa)), uintptr(salen))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// recvBuffers is recvmsg(2) into the segments, without source address or control data.
func recvBuffers(fd int, segs [][]byte) (int, error) {
	var iov [MaxSegs]unix.Iovec
	if !fillIovecs(&iov, segs) {
		return 0, unix.EINVAL
	}
	msg := unix.Msghdr{Iov: &iov[0]}
	msg.SetIovlen(len(segs))
	n, _, e := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// sendBuffers is sendmsg(2) of the segments with MSG_NOSIGNAL (sendMsg: with an address,
// rsa as for sendTo).
func sendBuffers(fd int, segs [][]byte) (int, error) { return sendMsg(fd, segs, nil, 0) }

func sendMsg(fd int, segs [][]byte, rsa *unix.RawSockaddrAny, salen uint32) (int, error) {
	var iov [MaxSegs]unix.Iovec
	if !fillIovecs(&iov, segs) {
		return 0, unix.EINVAL
	}
	msg := unix.Msghdr{Iov: &iov[0]}
	msg.SetIovlen(len(segs))
	if rsa != nil {
		msg.Name, msg.Namelen = (*byte)(unsafe.Pointer(rsa)), salen
	}
	n, _, e := unix.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), msgNoSignal)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// fillIovecs fills iov from segs; false if segs has more than MaxSegs. (The caller points
// its msghdr at iov: done here, through a pointer, it would move iov to the heap.)
func fillIovecs(iov *[MaxSegs]unix.Iovec, segs [][]byte) bool {
	if len(segs) > MaxSegs {
		return false
	}
	for k, b := range segs {
		if len(b) > 0 {
			iov[k].Base = &b[0]
			iov[k].SetLen(len(b))
		}
	}
	return true
}

// RecvFrom reads one datagram into b (the rest of a longer one is lost) and returns its
// length and source. ECONNREFUSED, the ICMP error of an earlier send that Linux reports
// once on the next call, belongs to no receive and is skipped.
func RecvFrom(fd int, b []byte) (int, netip.AddrPort, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	for {
		var rsa unix.RawSockaddrAny
		salen := uint32(unix.SizeofSockaddrAny)
		n, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(p), uintptr(len(b)), 0,
			uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&salen)))
		switch e {
		case 0:
			return int(n), rawAddrPort(&rsa), nil
		case unix.EINTR, unix.ECONNREFUSED:
			continue
		}
		return 0, netip.AddrPort{}, e
	}
}

// SendTo sends the segments (at most MaxSegs) as one datagram to a, from a socket of
// family.
func SendTo(fd, family int, segs [][]byte, a netip.AddrPort) (int, error) {
	var rsa unix.RawSockaddrAny
	salen, err := putRawAddr(&rsa, family, a)
	if err != nil {
		return 0, err
	}
	if p, ok := single(segs); ok {
		return ignoringEINTR(func() (int, error) { return sendTo(fd, p, &rsa, salen) })
	}
	return ignoringEINTR(func() (int, error) { return sendMsg(fd, segs, &rsa, salen) })
}
