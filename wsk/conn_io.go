//go:build unix || windows

package wsk

import (
	"sync"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/internal/sock"
)

// The nonblocking syscalls behind the queues (package sock). Every pump runs with
// socket.mu held, on the loop (readiness) or inline on the caller (the fast path of a new
// call), and goes on until EAGAIN or an empty queue: the engine is edge-triggered, so a
// later edge comes only after an EAGAIN. On a level-triggered engine the EAGAIN (or a
// short read, readShortLocked) re-arms the direction: every read and write path calls
// s.efd.RearmRead or RearmWrite there (engine doc, "Edges on a level-triggered poller").

// maxIovecs bounds one readv/writev.
const maxIovecs = sock.MaxSegs

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
			if s.readEndedLocked(err, out) {
				return
			}
			if n == 0 {
				s.eofLocked(out)
				return
			}
		case o.buf.Length == 0:
			// A zero-length receive completes when data (or EOF) is there, taking none.
			var one [1]byte
			n, err := sock.Peek(s.fd, one[:])
			if s.readEndedLocked(err, out) {
				return
			}
			if n == 0 {
				s.eofLocked(out)
				return
			}
			s.finishLocked(o, irp.Success, 0, out)
		default:
			sg := segmentsFrom(&o.buf, o.n, segs[:0])
			n, err := sock.Readv(s.fd, sg)
			// A receive without WAITALL that already holds bytes (taken from the held
			// ones, conn_events.go) completes with them when the kernel has no more, and
			// before an error the read reports: the data came first.
			partial := o.n > 0 && o.flags&dispatch.FlagWaitAll == 0
			switch {
			case sock.IsAgain(err):
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

// readEndedLocked handles the error of a read that takes nothing for itself (DRAIN, a
// zero-length receive): EAGAIN records the emptied receive queue (readShortLocked), any
// other error ends the connection. It reports whether the pump must stop.
func (s *socket) readEndedLocked(err error, out *[]*op) bool {
	switch {
	case sock.IsAgain(err):
		s.readShortLocked(0, 1)
		return true
	case err != nil:
		s.ioFailedLocked(err, out) // a dead transport: conn_events.go
		return true
	}
	return false
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
			n, err := sock.Writev(s.fd, segmentsFrom(&o.buf, o.n, segs[:0]))
			if sock.IsAgain(err) {
				s.efd.RearmWrite()
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
			if ap, err := sock.PeerAddr(s.fd); err == nil {
				s.coldLocked().peer = ap
			}
			if err := sock.Shutdown(s.fd); err != nil {
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

// connectDoneLocked finishes a nonblocking connect when the socket turns writable (or
// reports an error: a failed connect is not writable on Windows): SO_ERROR says how it
// ended; a socket still connecting (an early edge) waits for the next one. A ConnectEx
// with data moves to the head of sendQ to send it.
func (s *socket) connectDoneLocked(out *[]*op) {
	o := s.connectOpLocked()
	done, err := sock.ConnectResult(s.fd)
	if !done {
		s.efd.RearmWrite()
		return // not yet: wait for the next edge
	}
	s.state &^= stConnecting
	if o == nil {
		return
	}
	if err != nil {
		s.finishLocked(o, sock.Status(err), 0, out)
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
	n, err := sock.Read(fd, *bp)
	drainPool.Put(bp)
	return n, err
}
