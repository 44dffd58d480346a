//go:build linux

// Package lingertest holds what the tests of the linger engine and of its users share:
// reading a plain Linux peer's side of a connection to the end, and telling a graceful
// end (FIN, EOF) from a reset.
package lingertest

import (
	"errors"
	"io"
	"net"
	"syscall"
	"time"
)

// Saw is what the plain peer read: the byte count and how the stream ended.
type Saw struct {
	N     int64
	EOF   bool // the stream ended with the FIN
	Reset bool // a reset: the read failed with ECONNRESET, or came after the FIN
	Err   error
}

func (p Saw) String() string {
	switch {
	case p.EOF && p.Reset:
		return "EOF, then a reset"
	case p.EOF:
		return "EOF"
	case p.Reset:
		return "ECONNRESET"
	}
	return "error: " + p.Err.Error()
}

// Drain reads c until the stream ends, for at most limit. After the FIN, Linux reads
// give EOF even when a reset follows; the reset then shows in SO_ERROR (EPIPE: it met
// the socket in CLOSE_WAIT, or ECONNRESET).
func Drain(c *net.TCPConn, limit time.Duration) Saw {
	_ = c.SetReadDeadline(time.Now().Add(limit))
	var n int64
	b := make([]byte, 256<<10)
	for {
		k, err := c.Read(b)
		n += int64(k)
		switch {
		case err == nil:
			continue
		case errors.Is(err, io.EOF):
			e := SoError(c)
			return Saw{N: n, EOF: true, Reset: e == syscall.EPIPE || e == syscall.ECONNRESET}
		case errors.Is(err, syscall.ECONNRESET):
			return Saw{N: n, Reset: true, Err: err}
		default:
			return Saw{N: n, Err: err}
		}
	}
}

// SoError reads and clears c's pending socket error.
func SoError(c *net.TCPConn) syscall.Errno {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	var v int
	_ = rc.Control(func(fd uintptr) {
		v, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
	})
	return syscall.Errno(v)
}
