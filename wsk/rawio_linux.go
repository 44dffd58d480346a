//go:build linux

package wsk

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The Linux versions of the per-request socket calls (rawio_other.go has the others).

// recvPeek is recv(2) with MSG_PEEK|MSG_DONTWAIT and no source address: unix.Recvfrom
// would allocate a sockaddr buffer at every call, for a connection that has no use for
// one. (0, nil) is the peer's FIN.
func recvPeek(fd int, b []byte) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	n, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(p), uintptr(len(b)),
		unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// The per-request calls on a nonblocking socket (rawRead, sendNoSignal) are raw system
// calls: they never block, so they skip the scheduler's entersyscall/exitsyscall. With
// the ordinary wrapper, a call that the host delays past a sysmon tick (20 µs) has its P
// handed off and must win one back on return, and each such hand-off keeps sysmon at its
// fastest polling rate; both showed in the echo server's profile.

// rawRead is read(2) on a nonblocking descriptor; (0, nil) is EOF.
func rawRead(fd int, b []byte) (int, error) {
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

// sendNoSignal is send(2) of one buffer with MSG_NOSIGNAL: sendto with no address, which
// the kernel takes without sendmsg's msghdr and iovec copies (unix.SendmsgN would also
// build a one-entry iovec and a msghdr on every call). write(2) would be cheaper still
// but raises SIGPIPE on a reset peer.
func sendNoSignal(fd int, b []byte) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	n, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(p), uintptr(len(b)),
		msgNoSignal, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// connectUnspec is connect(2) with an AF_UNSPEC address: on a TCP socket it runs
// tcp_disconnect (a reset, resetNow), on a UDP socket it dissolves the association.
func connectUnspec(fd int) {
	var sa unix.RawSockaddr // Family 0 == AF_UNSPEC
	_, _, _ = unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
}
