//go:build windows

package sock

import (
	"syscall"

	"golang.org/x/sys/windows"
)

// The Winsock functions called directly: the wrappers of golang.org/x/sys/windows box
// every error they return (a syscall.Errno above 255 costs an allocation when it becomes
// an error), and WSAEWOULDBLOCK ends most reads; accept, recv, send and ioctlsocket have
// no wrapper there at all, and bind and connect take their address as a heap Sockaddr. WSAStartup has been called by
// the runtime's own package (internal/poll) before any of these runs.
var (
	ws2             = windows.NewLazySystemDLL("ws2_32.dll")
	procAccept      = ws2.NewProc("accept")
	procBind        = ws2.NewProc("bind")
	procConnect     = ws2.NewProc("connect")
	procRecv        = ws2.NewProc("recv")
	procSend        = ws2.NewProc("send")
	procRecvfrom    = ws2.NewProc("recvfrom")
	procSendto      = ws2.NewProc("sendto")
	procWSARecv     = ws2.NewProc("WSARecv")
	procWSASend     = ws2.NewProc("WSASend")
	procWSASendTo   = ws2.NewProc("WSASendTo")
	procIoctlsocket = ws2.NewProc("ioctlsocket")
	procGetsockname = ws2.NewProc("getsockname")
	procGetpeername = ws2.NewProc("getpeername")
	procWSAPoll     = ws2.NewProc("WSAPoll")
)

// socketError is SOCKET_ERROR, the int result of a failed Winsock call.
const socketError = -1

// errWouldBlock is WSAEWOULDBLOCK as an error, boxed once.
var errWouldBlock error = windows.WSAEWOULDBLOCK

// errnoErr turns the last error of a failed call into an error without allocating for
// the common one.
func errnoErr(e syscall.Errno) error {
	switch e {
	case 0:
		return windows.WSAEINVAL // failed without saying why
	case windows.WSAEWOULDBLOCK:
		return errWouldBlock
	}
	return e
}

// failed reports whether r, the result of a call that returns int, is SOCKET_ERROR.
func failed(r uintptr) bool { return int32(r) == socketError }

// maxIO bounds the length of one buffer of a call: Winsock counts in int32 and uint32,
// and a shorter transfer is reported as such.
const maxIO = 1 << 30

func ioLen(b []byte) int { return min(len(b), maxIO) }
