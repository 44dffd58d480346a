//go:build linux

package wsk

import "golang.org/x/sys/unix"

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

// sysAccept takes a connection from fd's queue, nonblocking and close-on-exec.
func sysAccept(fd int) (int, unix.Sockaddr, error) {
	return unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
}

// acceptTransient reports an accept error that belongs to the connection that died in
// the queue (beyond the ones every Unix reports): ENONET.
func acceptTransient(err error) bool { return err == unix.ENONET }

// tcpFinished reports whether the kernel has already finished the TCP connection on fd
// (state TCP_CLOSE): a linger-0 close of it sends nothing. Any error (not TCP) is false.
func tcpFinished(fd int) bool {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	return err == nil && info.State == tcpStateClose
}

// tcpStateClose is TCP_CLOSE in Linux's tcp_states.h numbering (TCP_INFO's tcpi_state).
const tcpStateClose = 7

// The keep-alive timing options (TCP_KEEPIDLE, TCP_KEEPINTVL).
const tcpKeepIdle, tcpKeepIntvl = unix.TCP_KEEPIDLE, unix.TCP_KEEPINTVL
