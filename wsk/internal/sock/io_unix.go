//go:build unix

package sock

import "golang.org/x/sys/unix"

// The per-request calls on a connected socket. Each OS file (io_linux.go, io_bsd.go)
// has the system calls: read, peek, sendOne, recvBuffers, sendBuffers.

// ignoringEINTR calls fn again for as long as a signal interrupts the system call in it
// before it did anything (EINTR), as internal/poll's ignoringEINTRIO does. Pass a function
// literal: the compiler inlines this loop and the literal, so the system call wrapper is
// called directly (a top-level function passed as fn would stay an indirect call).
func ignoringEINTR(fn func() (int, error)) (int, error) {
	for {
		n, err := fn()
		if err != unix.EINTR {
			return n, err
		}
	}
}

// Read reads into b; (0, nil) is EOF.
func Read(fd int, b []byte) (int, error) {
	return ignoringEINTR(func() (int, error) { return read(fd, b) })
}

// Readv reads into the segments (at most MaxSegs); (0, nil) is EOF.
func Readv(fd int, segs [][]byte) (int, error) {
	if len(segs) == 1 {
		return ignoringEINTR(func() (int, error) { return read(fd, segs[0]) })
	}
	return ignoringEINTR(func() (int, error) { return recvBuffers(fd, segs) })
}

// Writev writes the segments (at most MaxSegs). A reset peer gives EPIPE or ECONNRESET,
// never SIGPIPE.
func Writev(fd int, segs [][]byte) (int, error) {
	if len(segs) == 1 {
		return ignoringEINTR(func() (int, error) { return sendOne(fd, segs[0]) })
	}
	return ignoringEINTR(func() (int, error) { return sendBuffers(fd, segs) })
}

// Peek reads into b without taking the bytes from the receive queue; (0, nil) is the
// peer's FIN.
func Peek(fd int, b []byte) (int, error) {
	return ignoringEINTR(func() (int, error) { return peek(fd, b) })
}
