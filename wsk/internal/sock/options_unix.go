//go:build unix

package sock

import "golang.org/x/sys/unix"

// optName is o's (level, name); name -1 where the OS has no such option (tcp_*.go).
func optName(o Option) (level, name int) {
	switch o {
	case OptKeepAlive:
		return unix.SOL_SOCKET, unix.SO_KEEPALIVE
	case OptSndBuf:
		return unix.SOL_SOCKET, unix.SO_SNDBUF
	case OptRcvBuf:
		return unix.SOL_SOCKET, unix.SO_RCVBUF
	case OptError:
		return unix.SOL_SOCKET, unix.SO_ERROR
	case OptNoDelay:
		return unix.IPPROTO_TCP, unix.TCP_NODELAY
	case OptKeepIdle:
		return unix.IPPROTO_TCP, tcpKeepIdle
	case OptKeepIntvl:
		return unix.IPPROTO_TCP, tcpKeepIntvl
	}
	return 0, -1
}

// errNoOption is GetInt's and SetInt's answer for an option the OS does not have.
const errNoOption = unix.ENOPROTOOPT

var getsockoptInt, setsockoptInt = unix.GetsockoptInt, unix.SetsockoptInt

// bufferSize is a buffer size as read, halved: Linux reports twice the value set (its
// bookkeeping overhead), Winsock does not.
func bufferSize(v int) int { return v / 2 }

// optErr is the error of an option call as it is.
func optErr(_ Option, err error) error { return err }

// ReceiveQueue is the number of bytes waiting in the socket's receive queue.
func ReceiveQueue(fd int) (int, error) { return unix.IoctlGetInt(fd, ioctlInq) }

// IdealSendBacklog is the send backlog that keeps the connection busy, what
// SIO_WSK_QUERY_IDEAL_SEND_BACKLOG reports: the send buffer size (Linux autotunes it as
// the connection's window grows, which is when it changes).
func IdealSendBacklog(fd int) (int, error) { return GetInt(fd, OptSndBuf) }

// Alive asks the descriptor something without touching its queues (SO_TYPE): an error
// that TransportDied reports says the socket no longer works.
func Alive(fd int) error {
	_, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	return err
}
