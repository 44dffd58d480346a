//go:build unix || windows

package wsk

import (
	"net/netip"
	"sync"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/internal/sock"
)

// maxDatagram is the largest UDP payload (IPv6 jumbograms aside): a provider buffer of
// this size never truncates.
const maxDatagram = 65536

// dgramBuf is one received datagram in a provider-owned, pooled buffer. ind is the
// indication element that describes it when it is lent to ReceiveFromEvent.
type dgramBuf struct {
	b    []byte
	n    int
	from netip.AddrPort
	ind  dispatch.DatagramIndication
}

var dgramPool = sync.Pool{New: func() any { return &dgramBuf{b: make([]byte, maxDatagram)} }}

func getDgramBuf() *dgramBuf { return dgramPool.Get().(*dgramBuf) }

func putDgramBuf(b *dgramBuf) {
	b.n, b.from, b.ind = 0, netip.AddrPort{}, dispatch.DatagramIndication{}
	dgramPool.Put(b)
}

// recvDatagram reads one datagram from the kernel into a pooled buffer. A datagram from a
// source other than the fixed remote address is dropped (counted) and the next one read.
// It returns nil and the error (sock.IsAgain: nothing left; the read direction is then
// re-armed). The ICMP error of an earlier send belongs to no receive: sock.RecvFrom skips
// it.
func (s *socket) recvDatagram(d *dgram) (*dgramBuf, error) {
	for {
		b := getDgramBuf()
		n, from, err := sock.RecvFrom(s.fd, b.b)
		if err != nil {
			putDgramBuf(b)
			if sock.IsAgain(err) {
				s.efd.RearmRead()
			}
			return nil, err
		}
		b.n, b.from = n, from
		if d.remote.IsValid() && b.from != d.remote {
			putDgramBuf(b)
			d.dropped++
			continue
		}
		return b, nil
	}
}

// takeDatagramLocked finishes the ReceiveFrom op o with datagram b (and recycles b).
func (s *socket) takeDatagramLocked(o *op, b *dgramBuf, out *[]*op) {
	a := o.dg
	n := o.buf.CopyFrom(0, b.b[:b.n])
	if a.remote != nil {
		*a.remote = b.from
	}
	if a.controlLen != nil {
		*a.controlLen = 0
		if a.controlFlags != nil {
			*a.controlFlags = 0
			if b.n > o.buf.Length {
				*a.controlFlags |= MsgTrunc
			}
		}
	}
	putDgramBuf(b)
	s.finishLocked(o, irp.Success, n, out)
}

// pumpDatagramRecvLocked serves the queued ReceiveFrom IRPs: first from the backlog (the
// oldest datagrams), then from the kernel until EAGAIN. A receive error fails the head
// request only (the next datagram may be fine), except one that says the transport
// itself is gone (sock.TransportDied): that is returned, and the caller makes the socket dead.
// A completed ReceiveFrom ends the pause of a static event that refused the backlog.
func (s *socket) pumpDatagramRecvLocked(out *[]*op) error {
	d := dgOf(s)
	for !s.recvQ.empty() && s.sticky == 0 && !s.state.has(stDead) {
		o := s.recvQ.head()
		if len(d.backlog) > 0 {
			b := d.backlog[0]
			d.backlog[0] = nil
			d.backlog = d.backlog[1:]
			s.takeDatagramLocked(o, b, out)
			d.resumeLocked(s)
			continue
		}
		b, err := s.recvDatagram(d)
		switch {
		case sock.IsAgain(err):
			return nil
		case err != nil && sock.TransportDied(err):
			return err
		case err != nil:
			s.finishLocked(o, sock.Status(err), 0, out)
			continue
		}
		s.takeDatagramLocked(o, b, out)
		d.resumeLocked(s)
	}
	return nil
}

// resumeLocked ends the pause of a static receive-from event that refused the backlog
// (a ReceiveFrom completed): the loop offers what is left, with no new edge to wait for.
func (d *dgram) resumeLocked(s *socket) {
	if d.refused {
		d.refused = false
		s.postReadable()
	}
}

// drainToBacklogLocked reads the kernel until EAGAIN into the backlog, dropping what
// does not fit (counted in dgram.dropped and Stats.DatagramsDropped): the edge-triggered
// engine gives no new edge before an EAGAIN, so the kernel must always be read to the
// end. A new datagram ends the pause of a static event that refused the backlog. It
// returns an error only when the transport died (sock.TransportDied).
func (s *socket) drainToBacklogLocked(d *dgram) error {
	for {
		b, err := s.recvDatagram(d)
		if err != nil {
			if sock.TransportDied(err) {
				return err
			}
			return nil // EAGAIN, or an error no request is there to report
		}
		d.refused = false // news: offered at the end of this readable pass
		if len(d.backlog) >= maxDatagramBacklog {
			putDgramBuf(b)
			d.dropped++
			s.reg.ctr.datagramsDropped.Add(1)
			continue
		}
		d.backlog = append(d.backlog, b)
	}
}

// pumpDatagramSendLocked sends the queued SendTo/SendMessages requests in order until
// EAGAIN. A request completes when its last datagram is in the kernel, or with the first
// error (and the bytes sent before it).
func (s *socket) pumpDatagramSendLocked(out *[]*op) {
	var segs [maxIovecs][]byte
	for !s.sendQ.empty() && s.sticky == 0 {
		o := s.sendQ.head()
		a := o.dg
		var err error
		for a.next < len(a.bufs) {
			var n int
			n, err = sendDatagram(s.fd, int(s.family), &a.bufs[a.next], segs[:0], a.to)
			if err != nil {
				break
			}
			a.total += n
			a.next++
		}
		if sock.IsAgain(err) {
			s.efd.RearmWrite()
			return
		}
		if err != nil {
			s.finishLocked(o, sock.Status(err), a.total, out)
			continue
		}
		s.finishLocked(o, irp.Success, a.total, out)
	}
}

// sendDatagram sends b as one datagram to to from fd, a socket of family. A Buf of more
// pieces than one sendmsg takes is gathered into one slice first (a datagram cannot be
// split over two calls).
func sendDatagram(fd, family int, b *dispatch.Buf, segs [][]byte, to netip.AddrPort) (int, error) {
	nseg := 0
	for range b.Segments {
		nseg++
	}
	if nseg > maxIovecs {
		flat := make([]byte, b.Length)
		b.CopyTo(0, flat)
		segs = append(segs[:0], flat)
	} else {
		segs = segmentsFrom(b, 0, segs)
	}
	return sock.SendTo(fd, family, segs, to)
}

// readable is the datagram half of Readable (on the loop, mu held, socket not closing):
// the queued ReceiveFrom IRPs take what they can first (invariant 31), the rest of the
// kernel's queue moves to the backlog, and an enabled ReceiveFromEvent is offered the
// backlog. A transport that died makes the socket dead and is told to the event with a
// NULL list (invariant 37).
func (d *dgram) readable(s *socket, after *[]func()) {
	var out []*op
	if !s.state.has(stDead) {
		err := s.pumpDatagramRecvLocked(&out)
		if err == nil && s.recvQ.empty() {
			err = s.drainToBacklogLocked(d)
		}
		if err != nil {
			d.dieLocked(s, &out)
		}
	}
	if len(out) > 0 {
		*after = append(*after, func() { s.complete(out) })
	}
	if s.state.has(stDead) {
		d.tellDeadLocked(s, after)
		return
	}
	s.offerEventLocked(d, after)
}

// writable is the datagram half of Writable: push the queued sends.
func (d *dgram) writable(s *socket, after *[]func()) {
	var out []*op
	s.pumpDatagramSendLocked(&out)
	if len(out) > 0 {
		*after = append(*after, func() { s.complete(out) })
	}
}
