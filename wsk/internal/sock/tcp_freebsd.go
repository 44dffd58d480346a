//go:build freebsd

package sock

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel's view of a TCP connection, and the keep-alive timing options.

// TCPFinished reports whether the kernel has already finished the TCP connection on fd
// (TCP_INFO's tcpi_state, the first byte of struct tcp_info, is TCPS_CLOSED): a linger-0
// close of it sends nothing. Any error (not TCP) is false.
func TCPFinished(fd int) bool {
	var info [256]byte // larger than struct tcp_info; the kernel copies what it has
	n := uint32(len(info))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.IPPROTO_TCP, unix.TCP_INFO,
		uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&n)), 0)
	return e == 0 && n > 0 && info[0] == tcpsClosed
}

// tcpsClosed is TCPS_CLOSED in the BSD numbering (netinet/tcp_fsm.h).
const tcpsClosed = 0

// SendQueue is FIONWRITE (_IOR('f', 119, int), not named by x/sys/unix): the bytes in the
// send buffer not yet acknowledged.
func SendQueue(fd int) (int, error) { return unix.IoctlGetInt(fd, 0x40046677) }

// The keep-alive timing options (TCP_KEEPIDLE, TCP_KEEPINTVL).
const tcpKeepIdle, tcpKeepIntvl = unix.TCP_KEEPIDLE, unix.TCP_KEEPINTVL
