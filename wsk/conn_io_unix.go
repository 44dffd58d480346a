//go:build unix

package wsk

import (
	"sync"

	"golang.org/x/sys/unix"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// The nonblocking syscalls behind the queues. Every pump runs with socket.mu held, on
// the loop (readiness) or inline on the caller (the fast path of a new call), and goes on
// until EAGAIN or an empty queue: the engine is edge-triggered, so a later edge comes only
// after an EAGAIN.

// maxIovecs bounds one readv/writev.
const maxIovecs = 64

// segmentsFrom appends to dst the pieces of b from byte off on (at most maxIovecs).
func segmentsFrom(b *dispatch.Buf, off int, dst [][]byte) [][]byte {
	for p := range b.Segments {
		if off >= len(p) {
			off -= len(p)
			continue
		}
		dst = append(dst, p[off:])
		off = 0
		if len(dst) == maxIovecs {
			break
		}
	}
	return dst
}

// segsLen is the number of bytes segs can take.
func segsLen(segs [][]byte) int {
	n := 0
	for _, b := range segs {
		n += len(b)
	}
	return n
}

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

// readv reads into the segments; (0, nil) is EOF.
func readv(fd int, segs [][]byte) (int, error) {
	if len(segs) == 1 {
		return ignoringEINTR(func() (int, error) { return rawRead(fd, segs[0]) })
	}
	return ignoringEINTR(func() (int, error) { return recvBuffers(fd, segs) })
}

// recvBuffers is recvmsg(2) into the segments, without source address or control data.
func recvBuffers(fd int, segs [][]byte) (int, error) {
	n, _, _, _, err := unix.RecvmsgBuffers(fd, segs, nil, 0)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// writev writes the segments with MSG_NOSIGNAL (a reset peer gives EPIPE, never SIGPIPE).
func writev(fd int, segs [][]byte) (int, error) {
	if len(segs) == 1 {
		return ignoringEINTR(func() (int, error) { return sendNoSignal(fd, segs[0]) })
	}
	return ignoringEINTR(func() (int, error) { return sendBuffers(fd, segs) })
}

// sendBuffers is sendmsg(2) of the segments with MSG_NOSIGNAL.
func sendBuffers(fd int, segs [][]byte) (int, error) {
	n, err := unix.SendmsgBuffers(fd, segs, nil, nil, msgNoSignal)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// setLingerZero sets SO_LINGER{1,0}: the close that follows sends RST. The provider never
// sets a positive linger on the descriptor: on Linux that makes close(2) block an OS thread
// for the linger time, and the kernel still does not abort when it expires.
func setLingerZero(fd int) {
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
}

// resetNow sends RST on a connected TCP socket without closing the descriptor:
// connect(AF_UNSPEC) runs tcp_disconnect, which resets any connection in a synchronized
// state. The descriptor stays ours until the close protocol closes it, so its number
// cannot be reused under a socket the application still holds.
func resetNow(fd int) {
	setLingerZero(fd)
	connectUnspec(fd)
}

// ioStatus maps a read/write error on a connected socket to the terminal status.
func ioStatus(err error) irp.Status {
	switch err {
	case unix.ECONNRESET, unix.EPIPE:
		return irp.ConnectionReset
	case unix.ECONNABORTED:
		return irp.ConnectionAborted
	}
	return irp.FromError(err)
}

// pumpRecvLocked serves recvQ from the head until EAGAIN or an empty queue.
func (s *socket) pumpRecvLocked(out *[]*op) {
	if s.indicatingLocked() {
		return // a receive callback holds the waiting bytes; served when it returns (conn_events.go)
	}
	ce, _ := s.ext.(*connEvents)
	var segs [maxIovecs][]byte
	for !s.recvQ.empty() && s.sticky == 0 {
		o := s.recvQ.head()
		if ce != nil && ce.held != nil {
			ce.takeHeldLocked(s, o, out) // held bytes come before the kernel's (conn_events.go)
			continue
		}
		switch {
		case o.flags&dispatch.FlagDrain != 0:
			// Discard everything until the peer's FIN (Information stays 0: never more
			// than the Buf's Length, which DRAIN requires to be 0).
			n, err := drainRead(s.fd)
			switch {
			case err == unix.EAGAIN:
				s.readShortLocked(0, 1)
				return
			case err != nil:
				s.ioFailedLocked(err, out) // a dead transport: conn_events.go
				return
			case n == 0:
				s.eofLocked(out)
				return
			}
		case o.buf.Length == 0:
			// A zero-length receive completes when data (or EOF) is there, taking none.
			var one [1]byte
			n, err := ignoringEINTR(func() (int, error) { return recvPeek(s.fd, one[:]) })
			switch {
			case err == unix.EAGAIN:
				s.readShortLocked(0, 1)
				return
			case err != nil:
				s.ioFailedLocked(err, out) // a dead transport: conn_events.go
				return
			}
			if n == 0 {
				s.eofLocked(out)
				return
			}
			s.finishLocked(o, irp.Success, 0, out)
		default:
			sg := segmentsFrom(&o.buf, o.n, segs[:0])
			n, err := readv(s.fd, sg)
			// A receive without WAITALL that already holds bytes (taken from the held
			// ones, conn_events.go) completes with them when the kernel has no more, and
			// before an error the read reports: the data came first.
			partial := o.n > 0 && o.flags&dispatch.FlagWaitAll == 0
			switch {
			case err == unix.EAGAIN:
				s.readShortLocked(0, 1)
				if partial {
					s.finishLocked(o, irp.Success, o.n, out)
				}
				return
			case err != nil:
				if partial {
					s.finishLocked(o, irp.Success, o.n, out)
				}
				s.ioFailedLocked(err, out) // a dead transport: conn_events.go
				return
			case n == 0:
				s.eofLocked(out)
				return
			}
			s.readShortLocked(n, segsLen(sg))
			o.n += n
			if o.flags&dispatch.FlagWaitAll == 0 || o.n == o.buf.Length {
				s.finishLocked(o, irp.Success, o.n, out)
			}
		}
	}
}

// eofLocked records the peer's graceful disconnect and completes every queued receive
// with success and what it holds (0 bytes for most: the EOF analogue, SPEC.md §3.4).
func (s *socket) eofLocked(out *[]*op) {
	s.state |= stRemoteGraceful
	for !s.recvQ.empty() {
		o := s.recvQ.head()
		s.finishLocked(o, irp.Success, o.n, out)
	}
}

// pumpSendLocked writes sendQ from the head until EAGAIN or an empty queue. A send
// completes only when all its bytes are in the kernel (WSK does not buffer). A graceful
// disconnect at the head writes its final buffer, then shuts down the write side (FIN) and
// completes.
func (s *socket) pumpSendLocked(out *[]*op) {
	var segs [maxIovecs][]byte
	for !s.sendQ.empty() && s.sticky == 0 && s.state.has(stConnected) {
		o := s.sendQ.head()
		if o.n < o.buf.Length {
			n, err := writev(s.fd, segmentsFrom(&o.buf, o.n, segs[:0]))
			if err == unix.EAGAIN {
				return
			}
			if err != nil {
				s.ioFailedLocked(err, out) // a dead transport: conn_events.go
				return
			}
			o.n += n
			continue
		}
		if o.kind == opDisconnect {
			// Once both directions are shut down Linux forgets the peer (getpeername says
			// ENOTCONN): record it while the kernel still knows it (peerNameLocked).
			if ap := peerAddrRaw(s.fd); ap.IsValid() {
				s.coldLocked().peer = ap
			}
			if err := unix.Shutdown(s.fd, unix.SHUT_WR); err != nil {
				s.ioFailedLocked(err, out) // a dead transport: conn_events.go
				return
			}
			s.state |= stLocalGraceful
			s.finishLocked(o, irp.Success, 0, out)
			continue
		}
		s.finishLocked(o, irp.Success, o.n, out)
	}
}

// connectDoneLocked finishes a nonblocking connect when the socket turns writable:
// SO_ERROR says how it ended; a socket still connecting (an early edge) waits for the
// next one. A ConnectEx with data moves to the head of sendQ to send it.
func (s *socket) connectDoneLocked(out *[]*op) {
	o := s.connectOpLocked()
	soerr, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && soerr == 0 {
		if _, perr := unix.Getpeername(s.fd); perr == unix.ENOTCONN {
			return // not yet: wait for the next edge
		}
	}
	s.state &^= stConnecting
	if err == nil && soerr != 0 {
		err = unix.Errno(soerr)
	}
	if o == nil {
		return
	}
	if err != nil {
		s.finishLocked(o, irp.FromError(err), 0, out)
		return
	}
	s.connectedLocked(o, out)
}

// connectedLocked marks the socket connected and finishes (or moves on) its connect op.
func (s *socket) connectedLocked(o *op, out *[]*op) {
	s.state |= stConnected | stBound
	if o.buf.Length == 0 {
		s.finishLocked(o, irp.Success, 0, out)
		return
	}
	// ConnectEx's data: it goes first, before any send.
	s.cold.connectOp = nil // o was it: connectOpLocked
	o.kind = opConnectSend
	s.sendQ.pushFront(o)
	s.pumpSendLocked(out)
}

// drainPool holds the buffers DRAIN receives discard into: a socket holds none of its own
// (almost no socket ever drains, and every one would pay for it).
var drainPool = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// drainRead reads and discards what waits in fd's receive queue, up to one buffer.
func drainRead(fd int) (int, error) {
	bp := drainPool.Get().(*[]byte)
	n, err := readv(fd, [][]byte{*bp})
	drainPool.Put(bp)
	return n, err
}
