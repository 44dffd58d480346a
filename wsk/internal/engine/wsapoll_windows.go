//go:build windows

package engine

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// procWSAPoll is ws2_32's WSAPoll, which golang.org/x/sys/windows does not wrap. New
// resolves it (Find) before any poller starts, so a system without it fails New.
var procWSAPoll = windows.NewLazySystemDLL("ws2_32.dll").NewProc("WSAPoll")

// pollFD is WSAPOLLFD: {SOCKET fd; SHORT events; SHORT revents}.
type pollFD struct {
	fd      windows.Handle
	events  int16
	revents int16
}

// WSAPoll's flags (winsock2.h). The poller asks for POLLRDNORM and POLLWRNORM only
// (WSAPoll refuses POLLPRI, and POLLRDBAND carries nothing TCP or UDP uses here);
// POLLERR, POLLHUP and POLLNVAL come back whatever was asked.
const (
	pollRdNorm = 0x0100
	pollWrNorm = 0x0010
	pollErr    = 0x0001
	pollHup    = 0x0002
	pollNval   = 0x0004
)

// Winsock numbers x/sys/windows has no names for (winsock2.h).
const (
	fionbio = 0x8004667e // ioctlsocket/WSAIoctl: set non-blocking mode
	soType  = 0x1008     // SOL_SOCKET option: the socket's type
)

// wsaPoll waits without a timeout until one of fds reports. Its thread stays in the
// system call meanwhile (the runtime hands the P to another thread). n < 0 is
// SOCKET_ERROR, with the Winsock error.
func wsaPoll(fds []pollFD) (n int, err error) {
	const infinite = ^uintptr(0) // INT -1
	r, _, e := syscall.SyscallN(procWSAPoll.Addr(), uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), infinite)
	if n = int(int32(r)); n < 0 {
		return n, e
	}
	return n, nil
}

// isSocket reports whether h is an open socket handle (getsockopt SO_TYPE succeeds).
func isSocket(h windows.Handle) bool {
	_, err := windows.GetsockoptInt(h, windows.SOL_SOCKET, soType)
	return err == nil
}

// wakeSocket is a poller's wake-up socket: UDP, bound to 127.0.0.1 and connected to its
// own address, so a datagram sent on it comes back to it and WSAPoll reports it
// readable. Non-blocking: a drain ends at WSAEWOULDBLOCK and a send never waits.
type wakeSocket struct{ h windows.Handle }

func openWakeSocket() (wakeSocket, error) {
	h, err := windows.WSASocket(windows.AF_INET, windows.SOCK_DGRAM, windows.IPPROTO_UDP, nil, 0,
		windows.WSA_FLAG_NO_HANDLE_INHERIT)
	if err != nil {
		return wakeSocket{}, err
	}
	s := wakeSocket{h: h}
	if err := s.setup(); err != nil {
		_ = windows.Closesocket(h)
		return wakeSocket{}, err
	}
	return s, nil
}

func (s wakeSocket) setup() error {
	if err := windows.Bind(s.h, &windows.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return err
	}
	self, err := windows.Getsockname(s.h)
	if err != nil {
		return err
	}
	if err := windows.Connect(s.h, self); err != nil {
		return err
	}
	return setNonblock(s.h, true)
}

// send sends one wake-up datagram.
func (s wakeSocket) send() error {
	b := [1]byte{1}
	var n uint32
	buf := windows.WSABuf{Len: 1, Buf: &b[0]}
	return windows.WSASend(s.h, &buf, 1, &n, 0, nil, nil)
}

// drain receives the datagrams queued, at most limit of them (senders keep at most one
// in flight, Close adds one: a few is all there can be).
func (s wakeSocket) drain(limit int) {
	var b [16]byte
	for i := 0; i < limit; i++ {
		var n, flags uint32
		buf := windows.WSABuf{Len: uint32(len(b)), Buf: &b[0]}
		if windows.WSARecv(s.h, &buf, 1, &n, &flags, nil, nil) != nil {
			return
		}
	}
}

func (s wakeSocket) close() { _ = windows.Closesocket(s.h) }

// setNonblock sets or clears the socket's non-blocking mode (FIONBIO).
func setNonblock(h windows.Handle, on bool) error {
	var v, n uint32
	if on {
		v = 1
	}
	return windows.WSAIoctl(h, fionbio, (*byte)(unsafe.Pointer(&v)), 4, nil, 0, &n, nil, 0)
}
