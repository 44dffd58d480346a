//go:build windows

package sock

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/windows"
)

// optName is o's (level, name). The keep-alive timing options exist since Windows 10
// 1709; an older stack refuses them (GetInt and SetInt then answer
// errors.ErrUnsupported, which Status maps to STATUS_NOT_SUPPORTED).
func optName(o Option) (level, name int) {
	switch o {
	case OptKeepAlive:
		return windows.SOL_SOCKET, windows.SO_KEEPALIVE
	case OptSndBuf:
		return windows.SOL_SOCKET, windows.SO_SNDBUF
	case OptRcvBuf:
		return windows.SOL_SOCKET, windows.SO_RCVBUF
	case OptError:
		return windows.SOL_SOCKET, soErrorOpt
	case OptNoDelay:
		return windows.IPPROTO_TCP, windows.TCP_NODELAY
	case OptKeepIdle:
		return windows.IPPROTO_TCP, windows.TCP_KEEPIDLE
	case OptKeepIntvl:
		return windows.IPPROTO_TCP, windows.TCP_KEEPINTVL
	}
	return 0, -1
}

// errNoOption is GetInt's and SetInt's answer for an option the OS does not have.
const errNoOption = windows.WSAENOPROTOOPT

func getsockoptInt(fd, level, name int) (int, error) {
	return windows.GetsockoptInt(windows.Handle(fd), level, name)
}

func setsockoptInt(fd, level, name, v int) error {
	return windows.SetsockoptInt(windows.Handle(fd), level, name, v)
}

// bufferSize is a buffer size as read: as set (Winsock does not double them).
func bufferSize(v int) int { return v }

// optErr is errors.ErrUnsupported for a keep-alive timing option the stack does not
// know (WSAENOPROTOOPT, or WSAEINVAL from some stacks), err otherwise.
func optErr(o Option, err error) error {
	if (o == OptKeepIdle || o == OptKeepIntvl) && (err == windows.WSAENOPROTOOPT || err == windows.WSAEINVAL) {
		return errors.ErrUnsupported
	}
	return err
}

// ReceiveQueue is FIONREAD: the number of bytes waiting in the socket's receive queue.
func ReceiveQueue(fd int) (int, error) {
	v, err := ioctlsocketGet(windows.Handle(fd), fionread, 0)
	return int(v), err
}

// sioIdealSendBacklogQuery is SIO_IDEAL_SEND_BACKLOG_QUERY, _IOR('t', 123, ULONG).
const sioIdealSendBacklogQuery = 0x4004747b

// IdealSendBacklog is the send backlog that keeps the connection busy, what
// SIO_WSK_QUERY_IDEAL_SEND_BACKLOG reports: Windows's own estimate
// (SIO_IDEAL_SEND_BACKLOG_QUERY), else the send buffer size as on Unix.
func IdealSendBacklog(fd int) (int, error) {
	var v, n uint32
	err := windows.WSAIoctl(windows.Handle(fd), sioIdealSendBacklogQuery, nil, 0,
		(*byte)(unsafe.Pointer(&v)), 4, &n, nil, 0)
	if err == nil && n == 4 {
		return int(v), nil
	}
	return GetInt(fd, OptSndBuf)
}

// Alive asks the handle something without touching its queues (SO_TYPE): an error that
// TransportDied reports says the socket no longer works.
func Alive(fd int) error {
	_, err := windows.GetsockoptInt(windows.Handle(fd), windows.SOL_SOCKET, soType)
	return err
}
