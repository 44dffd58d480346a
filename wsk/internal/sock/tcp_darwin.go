//go:build darwin

package sock

import "golang.org/x/sys/unix"

// The kernel's view of a TCP connection, and the keep-alive timing options.

// TCPFinished reports whether the kernel has already finished the TCP connection on fd
// (TCP_CONNECTION_INFO state TCPS_CLOSED): a linger-0 close of it sends nothing. Any
// error (not TCP) is false.
func TCPFinished(fd int) bool {
	info, err := unix.GetsockoptTCPConnectionInfo(fd, unix.IPPROTO_TCP, unix.TCP_CONNECTION_INFO)
	return err == nil && info.State == tcpsClosed
}

// tcpsClosed is TCPS_CLOSED in the BSD numbering (netinet/tcp_fsm.h).
const tcpsClosed = 0

// SendQueue is SO_NWRITE: the bytes in the send buffer not yet acknowledged.
func SendQueue(fd int) (int, error) {
	return unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_NWRITE)
}

// The keep-alive timing options: macOS names the idle time TCP_KEEPALIVE.
const tcpKeepIdle, tcpKeepIntvl = unix.TCP_KEEPALIVE, unix.TCP_KEEPINTVL
