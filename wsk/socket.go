//go:build unix || windows

package wsk

import (
	"sync"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/refcount"
	"github.com/gowsk/gowsk/wsk/internal/engine"
	"github.com/gowsk/gowsk/wsk/internal/sock"
)

// sockState is the socket's state word (SPEC.md §3.5), guarded by socket.mu. Bits only
// ever get set, never cleared, except stConnecting (cleared when the connect finishes);
// so a test of a bit taken under mu stays true.
//
//	bit              set when                                 meaning afterwards
//	stBound          Bind succeeded (Connect binds implicitly) GetLocalAddress works
//	stConnecting     a nonblocking connect is in progress      Connect/ConnectEx refused
//	stConnected      the connect completed (or accept)         Send/Receive/Disconnect allowed
//	stListening      a listen socket's Bind, a stream's Listen  connection functions refused
//	stSendShut       a graceful Disconnect was accepted        new sends refused
//	stLocalGraceful  shutdown(SHUT_WR) done (FIN sent)         LocalGraceful of SPEC.md §3.5
//	stRemoteGraceful a read returned 0 (the peer's FIN)        receives complete with 0 bytes
//	stAborted        a reset was sent or seen, or I/O failed   every I/O fails with sticky
//	stDead           the transport died (SPEC.md §3.5 Dead)    every call FILE_FORCED_CLOSED
//	stClosing        the close protocol reached step 5         nothing new is queued
//
// stLocalGraceful|stRemoteGraceful is "fully disconnected": the only connected state that
// closes without a reset.
type sockState uint32

const (
	stBound sockState = 1 << iota
	stConnecting
	stConnected
	stListening
	stSendShut
	stLocalGraceful
	stRemoteGraceful
	stAborted
	stDead
	stClosing
)

func (st sockState) has(b sockState) bool { return st&b == b }

// readinessExt is what a socket does with readiness beyond serving its queued IRPs: the connection
// events (connEvents), the listener (listener), the datagram pump (dgram) and a conditional
// connection's watcher (heldWatch). The loop calls it with socket.mu held, after the queued IRPs
// took what they could (a queued IRP always wins over an event, invariant 31). It must not block
// and must not run user code: it appends the user calls to *after, which run once mu is released,
// each through socket.invokeCallback.
type readinessExt interface {
	readable(s *socket, after *[]func())
	writable(s *socket, after *[]func())
}

// socket is the provider's record behind one WSK_SOCKET (ws.Impl points back here).
//
// Concurrency: the queues, the state word and the counters are guarded by mu. mu is
// never held while user code runs (completion routines, callbacks): code that finishes
// IRPs under mu collects them in a list and completes them after Unlock (socket.complete).
// Readiness (Readable/Writable) arrives on the FD's engine loop; calls arrive on any
// goroutine and try their syscall inline first.
//
// Lifetime: the socket holds one reference of its registration's rundown from creation to
// the completion of its close IRP. inflight is held by every admitted IRP until its
// completion has returned, callbacks by every user callback while it runs; the close
// protocol (socket_close.go) drains both before it completes the close IRP.
type socket struct {
	ws  dispatch.Socket
	reg *Registration
	fd  int
	efd *engine.FD

	mu     sync.Mutex
	state  sockState
	sticky irp.Status // the first terminal error; 0 while there is none (reset is reported once by Linux)
	events dispatch.EventMask
	// npending counts the admitted IRPs not yet finished (Limits.MaxPendingPerSocket). 32
	// bits: 2^31 requests pending on one socket would need hundreds of GB of records.
	npending int32
	gate     eventGate // event callbacks running (events.go)
	family   uint8     // sock.AFInet or sock.AFInet6
	// rdDrained: a read of a connection took less than it asked for since the last
	// Readable began, so the kernel's receive queue was empty then, and the next arrival
	// brings an edge (engine.HangupHandler). The receive event then neither reads again
	// (it could only get EAGAIN) nor posts itself another look. Never set once hupSeen:
	// a FIN or an error may sit behind the data of an edge that announced both. Every
	// Readable (an edge or a posted look) clears it, so a look always reads. A WskReceive
	// call still reads inline whatever it says: data that came before its edge was
	// handled must complete the call at once (pending iff asynchronous).
	rdDrained bool
	hupSeen   bool  // an edge carried EPOLLRDHUP, EPOLLHUP or EPOLLERR
	wake      uint8 // the looks waiting in the loop's wake list (wake.go; guarded by its lock, not mu)

	// socketContext and clientDispatch are what the application passed at creation: every
	// event callback of clientDispatch gets socketContext.
	socketContext  any
	clientDispatch any

	inflight  refcount.Rundown
	callbacks refcount.Rundown

	recvQ       opQueue
	sendQ       opQueue // sends, a graceful disconnect, a ConnectEx's data, in submission order
	queuedBytes int     // send bytes of those IRPs (Limits.MaxQueuedBytesPerSocket)
	ext         readinessExt

	// cold is what an established connection does not touch (the connect op, the
	// listener, the peer address after our FIN, disable waiters, static events,
	// SOCancelKeepsSent): nil until first used (socket_cold.go).
	cold *socketCold
}

// category is the socket's WSK_FLAG_*_SOCKET value: the type of its provider table
// (dispatch.Socket.Category), fixed once ws.Init ran, before the socket is published.
func (s *socket) category() dispatch.SocketFlags { return s.ws.Category() }

// readShortLocked records a read that returned n of the asked bytes (see rdDrained). A
// short read (an EAGAIN is one of 0 bytes) emptied the receive queue: a level-triggered
// engine watches the descriptor's reads again from here (engine.FD.RearmRead; a no-op on
// the edge-triggered engines).
func (s *socket) readShortLocked(n, asked int) {
	if n < asked && !s.hupSeen {
		s.rdDrained = true
	}
	if n < asked {
		s.efd.RearmRead()
	}
}

// sockOf returns the provider record of a socket handed to a table member.
func sockOf(ws *dispatch.Socket) *socket {
	s, _ := ws.Impl.(*socket)
	return s
}

// opKind says which queue an op lives in and what finishing it means.
type opKind uint8

const (
	opRecv        opKind = iota // recvQ: WskReceive
	opSend                      // sendQ: WskSend
	opDisconnect                // sendQ: graceful WskDisconnect (final buffer, then FIN)
	opConnect                   // cold.connectOp: WskConnect, WskConnectEx, WskSocketConnect
	opConnectSend               // sendQ: the data of a WskConnectEx, after the connect
	opInternal                  // no queue: a synchronous call that still counts as admitted
	opAccept                    // sendQ of a listener (never connected, so never pumped): WskAccept
)

// op is one admitted IRP. Its ownership rule: while op.queued is true (under mu) the op
// belongs to its queue, and whoever dequeues it (finishLocked, under mu) owns the IRP and
// completes it. The cancel routine takes the same path, so a cancel and a completion never
// both complete the IRP.
type op struct {
	s     *socket
	i     *irp.IRP
	next  *op // the queue's link while in recvQ or sendQ (opqueue.go), else nil
	buf   dispatch.Buf
	flags dispatch.Flags
	st    irp.Status // set by finishLocked, with info
	n     int        // bytes moved so far
	bytes int        // counted in s.queuedBytes
	info  uintptr

	obj   any                 // the socket, for WskSocketConnect: completed with it on success only
	dg    *dgArgs             // a datagram request's arguments (datagram.go)
	after func(st irp.Status) // runs after the IRP completed (WskSocketConnect cleans up a failure)
	acc   *acceptReq          // opAccept: the WskAccept parameters (listen_accept.go)

	cancelFn  irp.CancelRoutine // o.cancel, made once (pooled ops keep it across uses)
	kind      opKind
	queued    bool // in recvQ, sendQ or the cold record's connectOp
	cancelSet bool // pendLocked gave the IRP cancelFn
	pooled    bool // from newIOOp: recycled after its completion (socket_oppool.go)
	noReuse   bool // a Cancel took the routine: it may still call o.cancel
}

// admitLocked accounts a new op against the limits and takes its inflight reference.
// STATUS_INSUFFICIENT_RESOURCES when a bound is hit (counted in Stats.LimitRejections).
// The caller holds mu and then either queues o or finishes it; every admitted op goes
// through finishLocked and complete exactly once.
func (s *socket) admitLocked(o *op, bytes int) irp.Status {
	lim := &s.reg.limits
	// The byte bound applies only to requests that pin send bytes: a receive, an
	// accept or a bare disconnect must still be admitted while a large send (always
	// admitted when it is the first, or it could never go) holds more than the bound.
	if int(s.npending) >= lim.MaxPendingPerSocket ||
		(bytes > 0 && s.queuedBytes > 0 && s.queuedBytes+bytes > lim.MaxQueuedBytesPerSocket) {
		s.reg.ctr.limitRejections.Add(1)
		return irp.InsufficientResources
	}
	if s.reg.pendingTotal.Add(1) > int64(lim.MaxPendingTotal) {
		s.reg.pendingTotal.Add(-1)
		s.reg.ctr.limitRejections.Add(1)
		return irp.InsufficientResources
	}
	if !s.inflight.Acquire() {
		s.reg.pendingTotal.Add(-1)
		return irp.InvalidHandle
	}
	o.s = s
	o.bytes = bytes
	s.npending++
	s.queuedBytes += bytes
	s.reg.ctr.irpsPending.Add(1)
	return irp.Success
}

// admitAndQueueLocked is the prologue of every request that waits in a queue. st is the
// result of the caller's state checks; if it is irp.Success, o is admitted against the
// limits (admitLocked) and appended to q. Any other result means o was neither admitted
// nor queued: the caller unlocks mu and refuses it with failUnadmitted.
func (s *socket) admitAndQueueLocked(o *op, st irp.Status, bytes int, q *opQueue) irp.Status {
	if st == irp.Success {
		if st = s.admitLocked(o, bytes); st == irp.Success {
			o.queued = true
			q.push(o)
		}
	}
	return st
}

// finishLocked dequeues o (if queued), records its final status and appends it to out for
// completion after Unlock. The IRP's cancel routine slot is cleared: either it is still
// there (we take it back) or a Cancel took it, and that cancel routine will find o no
// longer queued and do nothing.
func (s *socket) finishLocked(o *op, st irp.Status, info int, out *[]*op) {
	if o.queued {
		o.queued = false
		switch o.kind {
		case opRecv:
			s.recvQ.remove(o)
		case opConnect:
			if s.cold != nil && s.cold.connectOp == o {
				s.cold.connectOp = nil
			}
		default:
			s.sendQ.remove(o)
		}
	}
	if o.i != nil && o.i.SetCancelRoutine(nil) == nil && o.cancelSet {
		o.noReuse = true // a Cancel holds the routine: it will still call o.cancel (socket_oppool.go)
	}
	s.npending--
	s.queuedBytes -= o.bytes
	o.st, o.info = st, uintptr(info)
	if o.kind == opRecv && st == irp.Success {
		s.receiveCompletedLocked() // ends a receive-event pause (conn_events.go, invariant 33)
	}
	*out = append(*out, o)
}

// complete completes the finished ops, in order, with no lock held (the completion
// routines are user code), then drops each op's inflight reference: the last drop after
// close began runs the rest of the close protocol.
func (s *socket) complete(out []*op) {
	for k, o := range out {
		s.completeOne(o, out[k+1:])
	}
}

// completeOne completes o (see complete). If o's completion routine panics, o's
// accounting is still undone, the ops after it (rest) are still completed, and the socket
// is aborted (the peer sees RST: a panicking callback aborts only its own socket); then
// the panic goes on, to the engine loop (which recovers and counts it in
// Stats.EnginePanics) or to the goroutine that made the call. The inflight reference must
// come back even then, or close never completes (TESTING.md case 16).
func (s *socket) completeOne(o *op, rest []*op) {
	done := false
	defer func() {
		if done {
			return
		}
		if o.after != nil {
			o.after(o.st)
		}
		s.inflight.Release()
		s.complete(rest)
		s.abort(irp.ConnectionAborted)
	}()
	// The op stops counting against Limits.MaxPendingTotal before its routine runs: a
	// routine (or the caller it wakes) that submits the next request at once must not
	// be refused because of the request that just ended.
	s.reg.pendingTotal.Add(-1)
	s.reg.ctr.irpEnded(o.st)
	if o.i != nil {
		if o.obj != nil && o.st == irp.Success {
			o.i.CompleteObject(o.st, o.info, o.obj)
		} else {
			o.i.Complete(o.st, o.info)
		}
	}
	done = true
	if o.after != nil {
		o.after(o.st)
	}
	s.inflight.Release()
	o.recycle()
}

// pendLocked ends a call that admitted o. If o is still queued, its IRP is marked pending
// and made cancellable and the call returns irp.Pending; otherwise o was finished (it is
// in out, completed by the caller after Unlock) and the call returns its status.
func (s *socket) pendLocked(o *op, out *[]*op) irp.Status {
	if !o.queued {
		return o.st
	}
	o.i.MarkPending()
	s.observePending(o.i)
	if o.cancelFn == nil {
		o.cancelFn = o.cancel
	}
	o.cancelSet = true
	o.i.SetCancelRoutine(o.cancelFn)
	if o.i.Cancelled() && o.i.SetCancelRoutine(nil) != nil {
		s.finishLocked(o, irp.Cancelled, 0, out)
	}
	return irp.Pending
}

// cancel is the IRP's cancel routine (it runs on the goroutine that called Cancel). A
// receive that already holds data completes with success and those bytes, so no data is
// lost; anything else completes with STATUS_CANCELLED. A cancelled connect leaves the
// socket unusable (the kernel's connect cannot be taken back): it is marked aborted. So
// does a cancelled send of which part is already in the kernel: the connection is reset
// rather than carry a torn send.
func (o *op) cancel(*irp.IRP) {
	s := o.s
	s.observeCancel(o.i) // before the lock: the observer is not run under it
	var out []*op
	s.mu.Lock()
	if o.queued {
		switch {
		case o.kind == opRecv && o.n > 0:
			s.finishLocked(o, irp.Success, o.n, &out)
		case o.kind == opConnect:
			// Finish o first: failLocked finishes the connect op too, and o is still it
			// (each IRP completes once, TESTING.md case 11).
			s.state &^= stConnecting
			s.finishLocked(o, irp.Cancelled, 0, &out)
			s.failLocked(irp.ConnectionAborted, &out)
		case o.kind == opSend && o.n > 0 && s.cancelKeepsSentLocked():
			s.finishLocked(o, irp.Cancelled, o.n, &out) // the caller resumes at o.n (options_cancel.go)
		case (o.kind == opSend || o.kind == opConnectSend) && o.n > 0:
			// Part of the send is in the kernel and cannot be taken back. Ending it here
			// and sending the next request's bytes after the torn one would corrupt the
			// stream without anyone noticing, so the connection is aborted instead: the
			// peer sees RST, and every other request fails with
			// STATUS_CONNECTION_ABORTED. Finish o first, as for a connect.
			s.finishLocked(o, irp.Cancelled, 0, &out)
			s.abortLocked(irp.ConnectionAborted, &out)
		default:
			s.finishLocked(o, irp.Cancelled, 0, &out)
		}
	}
	s.mu.Unlock()
	s.complete(out)
}

// checkLocked is the common state test of an I/O call: the sticky error, a dead
// transport, or the wanted state bit missing (STATUS_INVALID_DEVICE_STATE).
func (s *socket) checkLocked(need sockState) irp.Status {
	switch {
	case s.state.has(stDead):
		return irp.FileForcedClosed
	case s.sticky != 0:
		return s.sticky
	case !s.state.has(need):
		return irp.InvalidDeviceState
	}
	return irp.Success
}

// failLocked makes st the socket's terminal error (only the first one sticks: Linux
// reports a reset once, and a later clean EOF must not hide it) and finishes every queued
// op with it.
func (s *socket) failLocked(st irp.Status, out *[]*op) {
	if s.sticky == 0 {
		s.sticky = st
	}
	s.state |= stAborted
	for !s.recvQ.empty() {
		o := s.recvQ.head()
		s.finishLocked(o, st, o.n, out)
	}
	for !s.sendQ.empty() {
		s.finishLocked(s.sendQ.head(), st, 0, out)
	}
	if o := s.connectOpLocked(); o != nil {
		s.finishLocked(o, st, 0, out)
	}
}

// abortLocked resets the connection now (the peer sees RST) without closing the
// descriptor, and fails every queued op with st. Used by an abortive Disconnect
// (STATUS_CONNECTION_ABORTED) and by a panicking callback.
func (s *socket) abortLocked(st irp.Status, out *[]*op) {
	if s.state.has(stConnected) && !s.state.has(stAborted) {
		sock.Reset(s.fd)
		s.reg.ctr.resetsSent.Add(1)
	}
	s.failLocked(st, out)
}

// abort is abortLocked with the lock and the completions.
func (s *socket) abort(st irp.Status) {
	var out []*op
	s.mu.Lock()
	if !s.state.has(stClosing) {
		s.abortLocked(st, &out)
	}
	s.mu.Unlock()
	s.complete(out)
}

// Readable is the engine's read-readiness notification (on the loop): serve the queued
// receives, then let the extension (events) see what is left.
func (s *socket) Readable() { s.readable(false) }

// ReadableHangup is Readable for an edge that may carry the peer's FIN, a hang-up or an
// error (engine.HangupHandler): from then on reads go on until EAGAIN or EOF.
func (s *socket) ReadableHangup() { s.readable(true) }

func (s *socket) readable(hup bool) {
	outp, ap := getOut(), getAfter()
	out := *outp
	s.mu.Lock()
	s.rdDrained = false
	if hup {
		s.hupSeen = true
	}
	if s.category() != dispatch.DatagramSocket { // datagram receives are pumped by s.ext
		s.pumpRecvLocked(&out)
	}
	if s.ext != nil && !s.state.has(stClosing) {
		s.ext.readable(s, ap)
	}
	s.mu.Unlock()
	s.afterReadiness(outp, out, ap)
}

// afterReadiness ends a readiness pass, after mu is released: it completes the requests
// the pass finished, then makes the callback calls it collected (user code runs with no
// lock held), and gives both pooled lists back.
func (s *socket) afterReadiness(outp *[]*op, out []*op, ap *[]func()) {
	s.complete(out)
	putOut(outp, out)
	for _, f := range *ap {
		f()
	}
	putAfter(ap)
}

// Writable is the engine's write-readiness notification (on the loop): finish a connect
// in progress, then push the queued sends (and a graceful disconnect behind them).
func (s *socket) Writable() {
	outp, ap := getOut(), getAfter()
	out := *outp
	s.mu.Lock()
	if s.state.has(stConnecting) && !s.state.has(stClosing) {
		// After close began the descriptor may be closed (socket_close.go step 7 runs off the
		// loop when no handler is running): a posted Writable must not touch it.
		s.connectDoneLocked(&out)
	}
	s.pumpSendLocked(&out)
	if s.ext != nil && !s.state.has(stClosing) {
		s.ext.writable(s, ap)
	}
	s.mu.Unlock()
	s.afterReadiness(outp, out, ap)
}

// invokeCallback runs fn, a user event callback of s. It returns false without calling fn
// once close has begun (step 4 of the close protocol: no new callbacks). fn runs with no
// lock held, inside the callbacks rundown (close waits for it) and under recover: a panic
// is counted (Stats.CallbackPanics), logged, and aborts only this socket — the peer sees
// RST, pending IRPs fail with STATUS_CONNECTION_ABORTED, and the application still owns
// the socket and must close it. name labels the log record.
func (s *socket) invokeCallback(name string, fn func()) (ran bool) {
	if !s.callbacks.Acquire() {
		return false
	}
	defer s.callbacks.Release()
	defer func() {
		if v := recover(); v != nil {
			s.reg.ctr.callbackPanics.Add(1)
			s.reg.log.Error("wsk: event callback panicked; socket aborted", "callback", name, "panic", v)
			s.abort(irp.ConnectionAborted)
		}
	}()
	ran = true
	fn()
	return ran
}
