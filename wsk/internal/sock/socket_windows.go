//go:build windows

package sock

import (
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The OS's numbers for what the provider creates.
const (
	AFInet     = windows.AF_INET
	AFInet6    = windows.AF_INET6
	SockStream = windows.SOCK_STREAM
	SockDgram  = windows.SOCK_DGRAM
	IPProtoTCP = windows.IPPROTO_TCP
	IPProtoUDP = windows.IPPROTO_UDP
)

// Winsock numbers golang.org/x/sys/windows does not name.
const (
	fionbio    = 0x8004667e // _IOW('f', 126, u_long)
	fionread   = 0x4004667f // _IOR('f', 127, u_long)
	soErrorOpt = 0x1007
	soType     = 0x1008
	sdSend     = 1
	invalidFD  = ^uintptr(0) // INVALID_SOCKET
)

// Socket creates a nonblocking socket that no child process inherits
// (WSA_FLAG_NO_HANDLE_INHERIT). It is not an overlapped socket: the provider never gives
// it to a completion port, it calls it nonblocking and waits for readiness. An IPv6
// socket is made dual-stack (Windows makes it IPv6-only by default, Unix does not), a UDP
// socket ignores ICMP port-unreachable messages (SIO_UDP_CONNRESET off: otherwise a later
// receive fails with WSAECONNRESET, where Unix skips the error, see RecvFrom).
func Socket(family, sotype, proto int) (int, error) {
	h, err := windows.WSASocket(int32(family), int32(sotype), int32(proto), nil, 0, windows.WSA_FLAG_NO_HANDLE_INHERIT)
	if err != nil {
		return -1, err
	}
	if err := prepare(h, family, sotype); err != nil {
		_ = windows.Closesocket(h)
		return -1, err
	}
	return int(h), nil
}

func prepare(h windows.Handle, family, sotype int) error {
	if err := ioctlsocket(h, fionbio, 1); err != nil {
		return err
	}
	if family == windows.AF_INET6 {
		if err := windows.SetsockoptInt(h, windows.IPPROTO_IPV6, windows.IPV6_V6ONLY, 0); err != nil {
			return err
		}
	}
	if sotype == windows.SOCK_DGRAM {
		off := uint32(0)
		var n uint32
		// Best effort: the ICMP errors it stops are skipped by RecvFrom anyway.
		_ = windows.WSAIoctl(h, windows.SIO_UDP_CONNRESET, (*byte)(unsafe.Pointer(&off)), 4, nil, 0, &n, nil, 0)
	}
	return nil
}

// ioctlsocket sets or reads a u_long socket parameter (FIONBIO, FIONREAD).
func ioctlsocket(h windows.Handle, cmd uint32, v uint32) error {
	_, err := ioctlsocketGet(h, cmd, v)
	return err
}

func ioctlsocketGet(h windows.Handle, cmd uint32, v uint32) (uint32, error) {
	r, _, e := syscall.SyscallN(procIoctlsocket.Addr(), uintptr(h), uintptr(cmd), uintptr(unsafe.Pointer(&v)))
	if failed(r) {
		return 0, errnoErr(e)
	}
	return v, nil
}

// Close is closesocket.
func Close(fd int) error { return windows.Closesocket(windows.Handle(fd)) }

// Bind binds fd, a socket of family, to a; the zero AddrPort is the wildcard address and
// an ephemeral port.
func Bind(fd, family int, a netip.AddrPort) error { return withAddr(procBind, fd, family, a) }

// Connect starts connecting fd, a socket of family, to a. On a nonblocking stream socket
// an error that IsInProgress reports (WSAEWOULDBLOCK) means the connect goes on:
// ConnectResult, once the socket turns writable (or reports an error: a failed connect
// is not writable on Windows), says how it ended.
func Connect(fd, family int, a netip.AddrPort) error { return withAddr(procConnect, fd, family, a) }

// withAddr calls bind or connect with a as a raw address record.
func withAddr(proc *windows.LazyProc, fd, family int, a netip.AddrPort) error {
	var rsa windows.RawSockaddrAny
	n, err := putRawAddr(&rsa, family, a)
	if err != nil {
		return err
	}
	r, _, e := syscall.SyscallN(proc.Addr(), uintptr(fd), uintptr(unsafe.Pointer(&rsa)), uintptr(n))
	if failed(r) {
		return errnoErr(e)
	}
	return nil
}

// Listen makes a bound stream socket listen, with the largest backlog the OS gives
// (SOMAXCONN): WSK has no backlog parameter.
func Listen(fd int) error { return windows.Listen(windows.Handle(fd), windows.SOMAXCONN) }

// PrepareListener sets what a listening socket needs before Bind: nothing on Windows,
// which lets a listener bind a port whose old connections sit in TIME_WAIT. SO_REUSEADDR
// means something else there (another socket may take over a port in use) and is not set.
func PrepareListener(int) error { return nil }

// Accept takes a connection from the listener's queue and returns it with the peer's
// address. The new socket inherits the listener's properties, nonblocking among them
// (Windows has no accept4); it is made non-inheritable like every socket of Socket.
func Accept(lfd int) (int, netip.AddrPort, error) {
	var rsa windows.RawSockaddrAny
	n := int32(unsafe.Sizeof(rsa))
	r, _, e := syscall.SyscallN(procAccept.Addr(), uintptr(lfd), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&n)))
	if r == invalidFD {
		return -1, netip.AddrPort{}, errnoErr(e)
	}
	_ = windows.SetHandleInformation(windows.Handle(r), windows.HANDLE_FLAG_INHERIT, 0)
	return int(r), rawAddrPort(&rsa), nil
}

// LocalAddr is getsockname.
func LocalAddr(fd int) (netip.AddrPort, error) { return sockName(procGetsockname, fd) }

// PeerAddr is getpeername.
func PeerAddr(fd int) (netip.AddrPort, error) { return sockName(procGetpeername, fd) }

func sockName(proc *windows.LazyProc, fd int) (netip.AddrPort, error) {
	var rsa windows.RawSockaddrAny
	n := int32(unsafe.Sizeof(rsa))
	r, _, e := syscall.SyscallN(proc.Addr(), uintptr(fd), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&n)))
	if failed(r) {
		return netip.AddrPort{}, errnoErr(e)
	}
	return rawAddrPort(&rsa), nil
}

// Shutdown shuts the write side of a connection down (SD_SEND): the peer gets FIN.
func Shutdown(fd int) error { return windows.Shutdown(windows.Handle(fd), sdSend) }

// SetLingerZero sets SO_LINGER {1, 0}: the closesocket that follows resets the
// connection (the peer sees RST) instead of closing it gracefully. The provider never
// sets a positive linger: closesocket would block for it.
func SetLingerZero(fd int) {
	_ = windows.SetsockoptLinger(windows.Handle(fd), windows.SOL_SOCKET, windows.SO_LINGER, &windows.Linger{Onoff: 1, Linger: 0})
}

// Reset asks for the reset of a connected TCP socket without closing the handle, so that
// its value cannot be reused under a socket the application still holds. Windows has no
// call that resets a connection and keeps the socket (Unix's connect(AF_UNSPEC)): the
// linger is set, and the RST goes out at Close.
func Reset(fd int) { SetLingerZero(fd) }

// Dissociate dissolves a UDP socket's association (Connect) by connecting it to the
// zero address of its family, Winsock's way: it takes datagrams from any source again,
// on the address and port it had.
func Dissociate(fd, family int) error { return Connect(fd, family, netip.AddrPort{}) }
