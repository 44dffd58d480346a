//go:build linux

package wsk

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The Linux system calls that differ from the other Unix systems (sys_bsd.go): sockets
// and accepted connections are born nonblocking and close-on-exec in one call.

// msgNoSignal keeps a send on a reset connection from raising SIGPIPE.
const msgNoSignal = unix.MSG_NOSIGNAL

// ioctlInq is the ioctl that returns the bytes waiting in a socket's receive queue.
const ioctlInq = unix.SIOCINQ

// sysSocket creates a nonblocking, close-on-exec socket.
func sysSocket(family, sotype, proto int) (int, error) {
	return unix.Socket(family, sotype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
}

// acceptTransient reports an accept error that belongs to the connection that died in
// the queue (beyond the ones every Unix reports): ENONET.
func acceptTransient(err error) bool { return err == unix.ENONET }

// tcpFinished reports whether the kernel has already finished the TCP connection on fd
// (state TCP_CLOSE): a linger-0 close of it sends nothing. Any error (not TCP) is false.
//
// TCP_INFO takes the socket lock and fills the whole record (about 0.8 µs here, as much as
// the rest of a close), so a zero-timeout poll asks first: tcp_poll reads the state
// without the lock and reports POLLHUP whenever the state is TCP_CLOSE, so without
// POLLHUP or POLLERR the connection is not finished. Only tcpi_state, the first byte of
// struct tcp_info, is then asked for; nothing is allocated.
func tcpFinished(fd int) bool {
	pfd := unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	var zero unix.Timespec
	n, _, e := unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1,
		uintptr(unsafe.Pointer(&zero)), 0, 0, 0)
	if e == 0 && (n == 0 || pfd.Revents&(unix.POLLHUP|unix.POLLERR) == 0) {
		return false
	}
	var state byte
	ln := uint32(1)
	_, _, e = unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.IPPROTO_TCP, unix.TCP_INFO,
		uintptr(unsafe.Pointer(&state)), uintptr(unsafe.Pointer(&ln)), 0)
	return e == 0 && ln == 1 && state == tcpStateClose
}

// tcpStateClose is TCP_CLOSE in Linux's tcp_states.h numbering (TCP_INFO's tcpi_state).
const tcpStateClose = 7

// The keep-alive timing options (TCP_KEEPIDLE, TCP_KEEPINTVL).
const tcpKeepIdle, tcpKeepIntvl = unix.TCP_KEEPIDLE, unix.TCP_KEEPINTVL
