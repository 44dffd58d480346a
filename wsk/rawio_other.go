//go:build unix && !linux

package wsk

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

//lint:file-ignore SA1019 connectUnspec: no libc wrapper of connect(2) takes AF_UNSPEC (macOS)

// The per-request socket calls outside Linux go through the ordinary wrappers (libSystem
// on macOS, libc on OpenBSD, where raw system calls are deprecated or refused).

// recvPeek is recv(2) with MSG_PEEK|MSG_DONTWAIT; (0, nil) is the peer's FIN.
func recvPeek(fd int, b []byte) (int, error) {
	n, _, err := unix.Recvfrom(fd, b, unix.MSG_PEEK|unix.MSG_DONTWAIT)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// rawRead is read(2) on a nonblocking descriptor; (0, nil) is EOF.
func rawRead(fd int, b []byte) (int, error) {
	n, err := unix.Read(fd, b)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// sendNoSignal is send(2) of one buffer without SIGPIPE (msgNoSignal, SO_NOSIGPIPE).
func sendNoSignal(fd int, b []byte) (int, error) {
	return unix.SendmsgN(fd, b, nil, nil, msgNoSignal)
}

// connectUnspec is connect(2) with an AF_UNSPEC address: it dissolves a UDP socket's
// association; on a TCP socket the BSDs may refuse it, and then the reset that resetNow
// asked for goes out at close (SO_LINGER {1, 0} is set). No wrapper takes an AF_UNSPEC
// address, hence the system call.
func connectUnspec(fd int) {
	var sa unix.RawSockaddr // Family 0 == AF_UNSPEC; Len 0 on the BSDs
	_, _, _ = unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
}
