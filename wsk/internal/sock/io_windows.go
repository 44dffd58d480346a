//go:build windows

package sock

import (
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The per-request calls on a nonblocking socket. One buffer goes through recv and send,
// several through WSARecv and WSASend with a WSABUF vector on the stack (the iovec of
// Unix's readv); none is overlapped, so each returns at once. Windows raises no signal on
// a reset connection, so nothing stands for MSG_NOSIGNAL.

// Read reads into b; (0, nil) is the peer's FIN.
func Read(fd int, b []byte) (int, error) { return recv(fd, b, 0) }

// Peek reads into b without taking the bytes from the receive queue; (0, nil) is the
// peer's FIN.
func Peek(fd int, b []byte) (int, error) { return recv(fd, b, windows.MSG_PEEK) }

func recv(fd int, b []byte, flags uintptr) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	r, _, e := syscall.SyscallN(procRecv.Addr(), uintptr(fd), uintptr(p), uintptr(ioLen(b)), flags)
	if failed(r) {
		return 0, errnoErr(e)
	}
	if r == 0 && len(b) > 0 {
		return 0, eofOrReset(fd)
	}
	return int(int32(r)), nil
}

// eofOrReset tells the peer's FIN from its reset after a read that returned 0 bytes
// (nil: the FIN). Windows's recv reports a reset itself (WSAECONNRESET), but Wine's
// server may read and clear the socket's pending error while it polls, and the read then
// returns 0 as for a FIN; the socket still polls as POLLERR. One zero-timeout WSAPoll per
// connection, at its end, keeps a reset a reset on both.
func eofOrReset(fd int) error {
	p := wsaPollFD{fd: uintptr(fd), events: pollRdNorm}
	r, _, _ := syscall.SyscallN(procWSAPoll.Addr(), uintptr(unsafe.Pointer(&p)), 1, 0)
	if r == 1 && p.revents&pollErr != 0 {
		return windows.WSAECONNRESET
	}
	return nil
}

// wsaPollFD is WSAPOLLFD.
type wsaPollFD struct {
	fd      uintptr
	events  int16
	revents int16
}

// The WSAPoll flags eofOrReset uses.
const (
	pollErr    = 0x0001
	pollRdNorm = 0x0100
)

// Readv reads into the segments (at most MaxSegs); (0, nil) is the peer's FIN.
func Readv(fd int, segs [][]byte) (int, error) {
	if len(segs) == 1 {
		return recv(fd, segs[0], 0)
	}
	var bufs [MaxSegs]windows.WSABuf
	nb, total, ok := fillWSABufs(&bufs, segs)
	if !ok {
		return 0, windows.WSAEINVAL
	}
	var n, flags uint32
	r, _, e := syscall.SyscallN(procWSARecv.Addr(), uintptr(fd), uintptr(unsafe.Pointer(&bufs[0])), uintptr(nb),
		uintptr(unsafe.Pointer(&n)), uintptr(unsafe.Pointer(&flags)), 0, 0)
	if failed(r) {
		return 0, errnoErr(e)
	}
	if n == 0 && total > 0 {
		return 0, eofOrReset(fd)
	}
	return int(n), nil
}

// Writev writes the segments (at most MaxSegs).
func Writev(fd int, segs [][]byte) (int, error) {
	if len(segs) == 1 {
		b := segs[0]
		var p unsafe.Pointer
		if len(b) > 0 {
			p = unsafe.Pointer(&b[0])
		}
		r, _, e := syscall.SyscallN(procSend.Addr(), uintptr(fd), uintptr(p), uintptr(ioLen(b)), 0)
		if failed(r) {
			return 0, sendErr(e)
		}
		return int(int32(r)), nil
	}
	n, err := sendBuffers(fd, segs, nil, 0)
	if err == windows.WSAESHUTDOWN {
		err = windows.WSAECONNRESET
	}
	return n, err
}

// sendErr is errnoErr for a send on a connection, where WSAESHUTDOWN means a reset: the
// provider never sends after its own Shutdown, and Wine reports a send on a connection the
// peer reset as WSAESHUTDOWN (it maps Linux's EPIPE, a reset there too, to it).
func sendErr(e syscall.Errno) error {
	if e == windows.WSAESHUTDOWN {
		return windows.WSAECONNRESET
	}
	return errnoErr(e)
}

// sendBuffers is WSASendTo of the segments (WSASend when rsa is nil).
func sendBuffers(fd int, segs [][]byte, rsa *windows.RawSockaddrAny, salen int32) (int, error) {
	var bufs [MaxSegs]windows.WSABuf
	nb, _, ok := fillWSABufs(&bufs, segs)
	if !ok {
		return 0, windows.WSAEINVAL
	}
	var n uint32
	var r uintptr
	var e syscall.Errno
	if rsa == nil {
		r, _, e = syscall.SyscallN(procWSASend.Addr(), uintptr(fd), uintptr(unsafe.Pointer(&bufs[0])), uintptr(nb),
			uintptr(unsafe.Pointer(&n)), 0, 0, 0)
	} else {
		r, _, e = syscall.SyscallN(procWSASendTo.Addr(), uintptr(fd), uintptr(unsafe.Pointer(&bufs[0])), uintptr(nb),
			uintptr(unsafe.Pointer(&n)), 0, uintptr(unsafe.Pointer(rsa)), uintptr(salen), 0, 0)
	}
	if failed(r) {
		return 0, errnoErr(e)
	}
	return int(n), nil
}

// fillWSABufs fills bufs from segs and returns how many it used (at least one: an empty
// vector is one empty buffer) and their bytes; false if segs has more than MaxSegs.
func fillWSABufs(bufs *[MaxSegs]windows.WSABuf, segs [][]byte) (n, total int, ok bool) {
	if len(segs) > MaxSegs {
		return 0, 0, false
	}
	for k, b := range segs {
		if len(b) > 0 {
			bufs[k] = windows.WSABuf{Len: uint32(ioLen(b)), Buf: &b[0]}
			total += int(bufs[k].Len)
		}
	}
	return max(len(segs), 1), total, true
}

// RecvFrom reads one datagram into b (the rest of a longer one is lost, as on Unix:
// WSAEMSGSIZE, which says so, is success with len(b) bytes) and returns its length and
// source. WSAECONNRESET and WSAENETRESET, the ICMP errors of earlier sends (port
// unreachable, time exceeded) where SIO_UDP_CONNRESET could not be turned off, belong to
// no receive and are skipped, as Unix's ECONNREFUSED.
func RecvFrom(fd int, b []byte) (int, netip.AddrPort, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	for {
		var rsa windows.RawSockaddrAny
		salen := int32(unsafe.Sizeof(rsa))
		r, _, e := syscall.SyscallN(procRecvfrom.Addr(), uintptr(fd), uintptr(p), uintptr(ioLen(b)), 0,
			uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&salen)))
		if !failed(r) {
			return int(int32(r)), rawAddrPort(&rsa), nil
		}
		switch e {
		case windows.WSAEMSGSIZE:
			return ioLen(b), rawAddrPort(&rsa), nil
		case windows.WSAECONNRESET, windows.WSAENETRESET:
			continue
		}
		return 0, netip.AddrPort{}, errnoErr(e)
	}
}

// SendTo sends the segments (at most MaxSegs) as one datagram to a, from a socket of
// family.
func SendTo(fd, family int, segs [][]byte, a netip.AddrPort) (int, error) {
	var rsa windows.RawSockaddrAny
	salen, err := putRawAddr(&rsa, family, a)
	if err != nil {
		return 0, err
	}
	b, ok := single(segs)
	if !ok {
		return sendBuffers(fd, segs, &rsa, salen)
	}
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	n := ioLen(b)
	r, _, e := syscall.SyscallN(procSendto.Addr(), uintptr(fd), uintptr(p), uintptr(n), 0,
		uintptr(unsafe.Pointer(&rsa)), uintptr(salen))
	if failed(r) {
		return 0, errnoErr(e)
	}
	return int(int32(r)), nil
}
