package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// peerDeadline bounds every blocking read of the peer, so a broken close protocol shows
// up as "i/o timeout" in the transcript instead of a hang. It is never reached when the
// provider behaves.
const peerDeadline = 10 * time.Second

// dialPeer connects a plain net client (the peer) to addr.
func dialPeer(addr string) (*net.TCPConn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// peerReadN reads exactly n bytes, quoted, or names the error that came instead.
func peerReadN(c net.Conn, n int) string {
	_ = c.SetReadDeadline(time.Now().Add(peerDeadline))
	b := make([]byte, n)
	got, err := io.ReadFull(c, b)
	if err != nil {
		return fmt.Sprintf("%q, then %s", b[:got], errName(err))
	}
	return fmt.Sprintf("%q", b)
}

// peerReadEnd does one read and names what ended the stream: EOF (the server's FIN), an
// errno such as ECONNRESET (its RST), or the bytes if data came instead.
func peerReadEnd(c net.Conn) string {
	_ = c.SetReadDeadline(time.Now().Add(peerDeadline))
	b := make([]byte, 512)
	n, err := c.Read(b)
	if n > 0 {
		return fmt.Sprintf("%q", b[:n])
	}
	return errName(err)
}

// errName is the name a C programmer would print for what read(2) reported: EOF for a
// zero-byte read, the errno's symbolic name when there is one (the tour prints the
// actual errno: Linux reports an RST that arrives in CLOSE_WAIT as EPIPE).
func errName(err error) string {
	var errno syscall.Errno
	switch {
	case err == nil:
		return "no error"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "EOF"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "i/o timeout"
	case errors.As(err, &errno):
		if name, ok := errnoNames[errno]; ok {
			return name
		}
		if name, ok := osErrnoNames[errno]; ok {
			return name
		}
		return errno.Error()
	}
	return err.Error()
}

// errnoNames are the errnos a peer can see when a connection ends.
var errnoNames = map[syscall.Errno]string{
	syscall.ECONNRESET:   "ECONNRESET",
	syscall.EPIPE:        "EPIPE",
	syscall.ECONNABORTED: "ECONNABORTED",
	syscall.ETIMEDOUT:    "ETIMEDOUT",
}

// isReset reports whether what the peer saw is the RST: ECONNRESET, or EPIPE when Linux
// got the RST in CLOSE_WAIT (Linux reports that one as EPIPE).
func isReset(seen string) bool { return seen == "ECONNRESET" || seen == "EPIPE" }
