//go:build unix || windows

package wsk

import (
	"sync"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// indicationSize is the size of one pooled indication buffer: the most one receive event
// shows at once (less when Limits.MaxQueuedBytesPerSocket leaves less room).
const indicationSize = 64 << 10

// indication is one WSK_DATA_INDICATION the provider lends to WskReceiveEvent (SPEC.md §2.8). The
// provider owns it; list is what the application sees. Returning STATUS_PENDING lends it
// to the application until Release, with &list as its key.
type indication struct {
	list dispatch.DataIndication
	buf  []byte
	off  int // the bytes indicated (or held) start at buf[off]
	n    int // bytes indicated (list.Buffer.Length); while held: bytes held

	// entire: the read that filled buf took everything the kernel had then
	// (WSK_FLAG_ENTIRE_MESSAGE, kept when the bytes are indicated again from held).
	entire bool
	small  bool // a right-sized copy of held bytes (compactIndication), never pooled

	// early: Release came while the callback was still running (it handed the list to
	// another goroutine before returning STATUS_PENDING). Settled when it returns.
	early bool

	// The delivery in progress (startIndication, deliver): set under mu before the
	// callback is queued, read by deliver only. deliverFn is ind.deliver, made once.
	s         *socket
	ce        *connEvents
	fn        func(socketContext any, flags dispatch.Flags, list *dispatch.DataIndication, bytesIndicated int, bytesAccepted *int) irp.Status
	ctx       any
	flags     dispatch.Flags
	accepted  int // BytesAccepted, written by the callback
	deliverFn func()
}

// indicationPool recycles indication buffers: a busy connection makes one event per
// readable edge, and 64 KiB per event would otherwise be garbage each time.
var indicationPool = sync.Pool{New: func() any { return &indication{buf: make([]byte, indicationSize)} }}

func getIndication() *indication { return indicationPool.Get().(*indication) }

// heldCompactMax is the largest remainder of an indication that is copied out of its
// pooled buffer when held (conn_events.go endIndication).
const heldCompactMax = 4 << 10

// compactIndication returns a right-sized copy of ind's bytes buf[off:off+n]: an
// indication that is never pooled (small), so a few held bytes do not pin a pooled
// 64 KiB buffer.
func compactIndication(ind *indication) *indication {
	c := &indication{buf: make([]byte, ind.n), n: ind.n, entire: ind.entire, small: true}
	copy(c.buf, ind.buf[ind.off:ind.off+ind.n])
	return c
}

// putIndication returns ind to the pool. Only the provider calls it, and only for lists
// that are no longer lent: after the callback returned SUCCESS or DATA_NOT_ACCEPTED, or
// after Release.
func putIndication(ind *indication) {
	if ind.small {
		return // right-sized for held bytes: not a pool buffer
	}
	ind.list = dispatch.DataIndication{}
	ind.off, ind.n = 0, 0
	ind.entire = false
	ind.s, ind.ce, ind.fn, ind.ctx, ind.flags, ind.accepted = nil, nil, nil, nil, 0, 0
	ind.early = false
	indicationPool.Put(ind)
}

// connRelease is WskRelease for connection sockets: it gives back a list the application
// retained by returning STATUS_PENDING from WskReceiveEvent. It may be called on any
// goroutine, once per retained list, with the list's first element. A list that is not
// retained (never lent, already released, or lent by another socket) is
// STATUS_INVALID_PARAMETER; a dead socket refuses it like every other call
// (STATUS_FILE_FORCED_CLOSED). When the retained bytes had stopped the delivery
// (Limits.MaxQueuedBytesPerSocket), it resumes.
func connRelease(ws *dispatch.Socket, list *dispatch.DataIndication) irp.Status {
	s := sockOf(ws)
	if s == nil || list == nil {
		return irp.InvalidParameter
	}
	s.mu.Lock()
	if s.state.has(stDead) {
		s.mu.Unlock()
		return irp.FileForcedClosed
	}
	ce, _ := s.ext.(*connEvents)
	var ind *indication
	if ce != nil {
		ind = ce.retainedLocked(list)
	}
	if ind == nil && ce != nil && ce.cur != nil && &ce.cur.list == list && !ce.cur.early {
		// The callback has not returned yet: its STATUS_PENDING is still to come.
		ce.cur.early = true
		s.mu.Unlock()
		return irp.Success
	}
	if ind == nil {
		s.mu.Unlock()
		return irp.InvalidParameter
	}
	r := ce.rare // not nil: ind was in it
	delete(r.retained, list)
	stalled := r.retainedBytes >= s.reg.limits.MaxQueuedBytesPerSocket
	r.retainedBytes -= ind.n
	if (stalled || ce.held != nil) && !s.state.has(stClosing) {
		s.postReadable()
	}
	s.mu.Unlock()
	putIndication(ind)
	return irp.Success
}

// retainedAtCloseLocked is step 5 of the close protocol for indications: the provider
// never takes back a list the application still holds (invariant 26), since it may still
// be reading it. Holding one at close is a contract violation: it is counted
// (Stats.Misuse) and logged, and the buffers are left to the garbage collector. Datagram
// lists lent by ReceiveFromEvent follow the same rule.
func (s *socket) retainedAtCloseLocked() {
	if d, _ := s.ext.(*dgram); d != nil && len(d.lent) > 0 {
		s.reg.ctr.misuse.Add(uint64(len(d.lent)))
		s.reg.log.Error("wsk: socket closed while the application retains datagram indications (invariant 26)",
			"lists", len(d.lent))
		clear(d.lent)
		return
	}
	ce, _ := s.ext.(*connEvents)
	if ce == nil || ce.rare == nil || len(ce.rare.retained) == 0 {
		return
	}
	r := ce.rare
	s.reg.ctr.misuse.Add(uint64(len(r.retained)))
	s.reg.log.Error("wsk: socket closed while the application retains receive indications (invariant 26)",
		"lists", len(r.retained), "bytes", r.retainedBytes)
	clear(r.retained)
	r.retainedBytes = 0
}
