//go:build darwin

package wsk

import "golang.org/x/sys/unix"

// msgNoSignal is 0 on macOS: SO_NOSIGPIPE, set on every socket (noSigpipe), keeps a
// send on a reset connection from raising SIGPIPE.
const msgNoSignal = 0

func noSigpipe(fd int) error {
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_NOSIGPIPE, 1)
}

// tcpFinished reports whether the kernel has already finished the TCP connection on fd
// (TCP_CONNECTION_INFO state TCPS_CLOSED): a linger-0 close of it sends nothing. Any
// error (not TCP) is false.
func tcpFinished(fd int) bool {
	info, err := unix.GetsockoptTCPConnectionInfo(fd, unix.IPPROTO_TCP, unix.TCP_CONNECTION_INFO)
	return err == nil && info.State == tcpsClosed
}

// tcpsClosed is TCPS_CLOSED in the BSD numbering (netinet/tcp_fsm.h).
const tcpsClosed = 0

// kernelSendQueue is SO_NWRITE: the bytes in the send buffer not yet acknowledged.
func kernelSendQueue(fd int) (int, error) {
	return unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_NWRITE)
}

// The keep-alive timing options: macOS names the idle time TCP_KEEPALIVE.
const tcpKeepIdle, tcpKeepIntvl = unix.TCP_KEEPALIVE, unix.TCP_KEEPINTVL
