package winsock

import (
	"net/netip"
	"sync/atomic"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// bop is one user operation of a base socket backed by one wsk IRP. Its user side (the
// overlapped notification, or the blocked caller) completes exactly once (userDone),
// and, except for sends (whose bytes are the provider's copy), only once the IRP has
// come back, so the buffers it lent to wsk are free again (SAN close: free first, then
// complete).
type bop struct {
	s    *baseSock
	kind opKind
	i    *irp.IRP
	cl   irp.CancelLock // the close cancels while the routine may free the IRP

	ov  *Overlapped
	cr  CompletionRoutine
	tid ThreadID

	buf       dispatch.Buf
	from      *netip.AddrPort // RecvFrom: where the source goes
	remote    netip.AddrPort  // ReceiveFrom fills it; SendTo reads it
	probe     bool            // a nonblocking receive that is cancelled if it pends
	watch     bool            // the SD_RECEIVE watch: data means reset
	bg        bool            // a nonblocking send the caller no longer waits for
	waiter    chan struct{}   // synchronous calls wait here (closed by finishUser)
	userDone  atomic.Bool     // complete won: the outcome is being delivered
	published atomic.Bool     // err, n and obj are written (read them only after this)

	// Results, written before finishUser.
	err   WSAError
	n     uint32
	flags uint32
	obj   any
}

type opKind uint8

const (
	opRecv opKind = iota
	opSend
	opAccept
	opConnect
)

// newOp registers a user operation; WSAENOTSOCK once the socket is closing. A
// synchronous call without an Overlapped gets a waiter; silent is an operation nobody
// waits for (a nonblocking send or connect, the SD_RECEIVE watch): no notification.
func (s *baseSock) newOp(kind opKind, ov *Overlapped, cr CompletionRoutine, tid *ThreadID) (*bop, WSAError) {
	return s.newOpMode(kind, ov, cr, tid, false)
}

func (s *baseSock) newSilentOp(kind opKind) (*bop, WSAError) {
	return s.newOpMode(kind, nil, nil, nil, true)
}

func (s *baseSock) newOpMode(kind opKind, ov *Overlapped, cr CompletionRoutine, tid *ThreadID, silent bool) (*bop, WSAError) {
	o := &bop{s: s, kind: kind, ov: ov, cr: cr, i: irp.Allocate(s.ws.StackSize())}
	if tid != nil {
		o.tid = *tid
	}
	if ov == nil && !silent {
		o.waiter = make(chan struct{})
	}
	o.i.SetCompletionRoutine(o.irpDone, nil, irp.InvokeAlways)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.has(bClosed) {
		o.i.Free()
		return nil, irp.WSAENOTSOCK
	}
	s.ops[o] = struct{}{}
	return o, 0
}

// irpDone is the wsk IRP's completion routine: record the outcome, give the IRP back
// (free it unless a canceller still holds it), then complete the user side.
func (o *bop) irpDone(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
	st, n, obj := i.IoStatus.Status, i.IoStatus.Information, i.IoStatus.Object
	if o.cl.Completed() {
		i.Free()
	}
	o.s.finished(o, st, uint32(n), obj)
	return irp.MoreProcessingRequired
}

// finished turns a wsk outcome into the user's.
func (s *baseSock) finished(o *bop, st irp.Status, n uint32, obj any) {
	err := statusCode(st)
	switch o.kind {
	case opRecv:
		s.mu.Lock()
		switch {
		case st == irp.Success && n == 0 && o.buf.Length > 0:
			s.st |= bPeerFIN
		case st == irp.Cancelled && o.probe && !s.st.has(bClosed):
			err = irp.WSAEWOULDBLOCK
		case st != irp.Success && st != irp.Cancelled && s.sticky == 0:
			s.sticky = err
		}
		s.mu.Unlock()
		if o.from != nil && st == irp.Success {
			*o.from = o.remote
		}
		if st == irp.Success {
			s.readDone()
		}
	case opSend:
		s.mu.Lock()
		if o.bg {
			s.bgSends--
		}
		if st != irp.Success && st != irp.Cancelled && s.sticky == 0 {
			s.sticky = err
		}
		s.mu.Unlock()
		if st == irp.Success {
			s.writeDone()
		}
	case opConnect:
		s.connected(st)
	}
	if err != 0 && s.closed() {
		err = irp.WSAOperationAborted // whatever wsk said, the close ended it
	}
	if o.watch && st == irp.Success && n > 0 {
		s.abortAsync() // data after SD_RECEIVE: reset
	}
	o.complete(err, n, obj)
}

// complete completes the user side once, with its outcome: wake the waiter, or queue
// the completion routine to the issuing thread, or complete the overlapped request
// (event or port). Later calls do nothing.
func (o *bop) complete(err WSAError, n uint32, obj any) {
	if !o.userDone.CompareAndSwap(false, true) {
		return
	}
	o.err, o.n, o.obj = err, n, obj
	o.published.Store(true)
	s := o.s
	switch {
	case o.waiter != nil:
		close(o.waiter)
	case o.cr != nil:
		if o.ov.SetResult(o.err, o.n, o.flags) {
			if code := s.b.up.QueueApc(o.tid, runCompletionRoutine, 0, o); code != 0 {
				s.b.w.ctr.lostAPCs.Add(1)
				_ = code
			}
		}
	case o.ov != nil:
		_ = s.b.up.CompleteOverlappedRequest(s.h, o.ov, o.err, o.n)
	}
	s.mu.Lock()
	delete(s.ops, o)
	if len(s.ops) == 0 && s.opsDone != nil {
		close(s.opsDone)
		s.opsDone = nil
	}
	s.mu.Unlock()
}

// runCompletionRoutine is the provider's APC trampoline: it unpacks the operation and
// calls the client's routine (WPUQueueApc takes one context value).
func runCompletionRoutine(_ uintptr, data any) {
	o := data.(*bop)
	o.cr(o.err, o.n, o.ov, o.flags)
}

// wait blocks a synchronous call until its user side completed; a close aborting it
// makes it WSAEINTR (a blocking call interrupted, as Windows reports it).
func (o *bop) wait() (uint32, WSAError) {
	<-o.waiter
	if o.err == irp.WSAOperationAborted {
		return 0, irp.WSAEINTR
	}
	return o.n, o.err
}

// issued finishes the call half after the wsk call returned: a synchronous call waits,
// an overlapped one returns 0 with the count when the IRP completed inline successfully
// (the notification is already on its way), else WSA_IO_PENDING, also when it failed
// inline: once started, its outcome always comes through the notification.
func (o *bop) issued(ret irp.Status) (uint32, WSAError) {
	if o.waiter != nil {
		return o.wait()
	}
	if ret != irp.Pending && o.published.Load() && o.err == 0 {
		return o.n, 0
	}
	return 0, irp.WSAIOPending // the outcome, failure included, comes with the notification
}

func (b *base) recv(h Socket, bufs [][]byte, flags *uint32, ov *Overlapped, cr CompletionRoutine, tid *ThreadID) (uint32, WSAError) {
	return b.recvFrom(h, bufs, flags, nil, ov, cr, tid)
}

func (b *base) recvFrom(h Socket, bufs [][]byte, flags *uint32, from *netip.AddrPort, ov *Overlapped, cr CompletionRoutine, tid *ThreadID) (uint32, WSAError) {
	s, code := b.sockOf(h)
	if code != 0 {
		return 0, code
	}
	st, nb, code := s.ioState()
	switch {
	case code != 0:
		return 0, code
	case s.sotype == SockDgram && !st.has(bBound):
		return 0, irp.WSAEINVAL // recvfrom on an unbound datagram socket
	}
	probe := ov == nil && nb
	if probe && s.sotype == SockStream {
		// Bytes waiting (in the kernel, or held by wsk after a receive event) make it a
		// receive that completes at once; none is WSAEWOULDBLOCK. A receive issued and
		// cancelled could lose that race to wsk's own delivery of held bytes.
		if n, _ := s.receiveBacklog(); n == 0 {
			return 0, irp.WSAEWOULDBLOCK
		}
		probe = false
	}
	o, code := s.newOp(opRecv, ov, cr, tid)
	if code != 0 {
		return 0, code
	}
	o.buf = dispatch.MakeBufChain(bufs...)
	o.from = from
	o.probe = probe
	var ret irp.Status
	if s.sotype == SockDgram {
		t := s.ws.Datagram()
		ret = t.ReceiveFrom(s.ws, &o.buf, 0, &o.remote, nil, nil, nil, o.i)
	} else {
		ret = s.conn().receive(s.ws, &o.buf, 0, o.i)
	}
	if o.probe && ret == irp.Pending {
		if o.cl.Cancel(o.i) {
			o.i.Free()
		}
	}
	if flags != nil {
		*flags = 0
	}
	return o.issued(ret)
}

func (b *base) send(h Socket, bufs [][]byte, flags uint32, ov *Overlapped, cr CompletionRoutine, tid *ThreadID) (uint32, WSAError) {
	return b.sendTo(h, bufs, flags, netip.AddrPort{}, ov, cr, tid)
}

// sendTo copies the bytes (the provider's own buffer, like AFD's: a close may complete
// the user's operation while the bytes still go out as queued data) and sends them.
// A nonblocking synchronous send is accepted while no earlier one is still in wsk, and
// then returns at once; otherwise it is WSAEWOULDBLOCK.
func (b *base) sendTo(h Socket, bufs [][]byte, flags uint32, to netip.AddrPort, ov *Overlapped, cr CompletionRoutine, tid *ThreadID) (uint32, WSAError) {
	s, code := b.sockOf(h)
	if code != 0 {
		return 0, code
	}
	total := total(bufs)
	_, nb, code := s.ioState()
	s.mu.Lock()
	busy, remote := s.bgSends > 0, s.remote
	s.mu.Unlock()
	switch {
	case code != 0:
		return 0, code
	case ov == nil && nb && busy:
		s.wouldBlockWrite()
		return 0, irp.WSAEWOULDBLOCK
	case s.sotype == SockDgram && total > maxDatagram:
		return 0, irp.WSAEMSGSIZE
	}
	if s.sotype == SockDgram {
		if !to.IsValid() {
			to = remote
		}
		if !to.IsValid() {
			return 0, WSAEDESTADDRREQ
		}
		if code := s.bindAny(); code != 0 {
			return 0, code
		}
	}
	data := make([]byte, 0, total)
	for _, p := range bufs {
		data = append(data, p...)
	}
	bg := ov == nil && nb
	var o *bop
	if bg {
		o, code = s.newSilentOp(opSend)
		if code == 0 {
			o.bg = true
			s.mu.Lock()
			s.bgSends++
			s.mu.Unlock()
		}
	} else {
		o, code = s.newOp(opSend, ov, cr, tid)
	}
	if code != 0 {
		return 0, code
	}
	o.buf = dispatch.MakeBuf(data)
	o.remote = to
	var ret irp.Status
	if s.sotype == SockDgram {
		ret = s.ws.Datagram().SendTo(s.ws, &o.buf, 0, &o.remote, nil, o.i)
	} else {
		ret = s.conn().send(s.ws, &o.buf, 0, o.i)
	}
	if bg {
		if ret != irp.Pending && o.published.Load() && o.err != 0 {
			return 0, o.err
		}
		return uint32(total), 0
	}
	return o.issued(ret)
}

// maxDatagram is the largest UDP payload (65,507 bytes over IPv4).
const maxDatagram = 65507

func (b *base) accept(h Socket, remote *netip.AddrPort) (Socket, WSAError) {
	s, code := b.sockOf(h)
	if code != 0 {
		return InvalidSocket, code
	}
	s.mu.Lock()
	listening, nb := s.st.has(bListening), s.nonblocking
	s.mu.Unlock()
	if !listening {
		return InvalidSocket, irp.WSAEINVAL
	}
	if ns, rem, ok := s.takeBacklog(); ok { // delivered by WskAcceptEvent (events.go)
		s.acceptDone()
		return s.accepted(ns, rem, remote)
	}
	o, code := s.newOp(opAccept, nil, nil, nil)
	if code != 0 {
		return InvalidSocket, code
	}
	ns := &baseSock{b: b, af: s.af, sotype: SockStream, ops: make(map[*bop]struct{})}
	var rem netip.AddrPort
	ret := s.ws.Stream().Accept(s.ws, 0, ns, &baseConnEvents, nil, &rem, o.i)
	if nb && ret == irp.Pending {
		if o.cl.Cancel(o.i) {
			o.i.Free()
		}
	}
	<-o.waiter
	s.acceptDone()
	switch {
	case o.err == irp.WSAOperationAborted && nb && !s.closed():
		return InvalidSocket, irp.WSAEWOULDBLOCK
	case o.err == irp.WSAOperationAborted:
		return InvalidSocket, irp.WSAEINTR
	case o.err != 0:
		return InvalidSocket, o.err
	}
	ns.ws = o.obj.(*dispatch.Socket)
	return s.accepted(ns, rem, remote)
}

// accepted gives an accepted connection its handle.
func (s *baseSock) accepted(ns *baseSock, rem netip.AddrPort, remote *netip.AddrPort) (Socket, WSAError) {
	ns.st = bBound | bConnected
	ns.remote = rem
	nh, code := s.b.register(ns)
	if code != 0 {
		return InvalidSocket, code
	}
	s.inherit(ns)
	if remote != nil {
		*remote = rem
	}
	return nh, 0
}

func (s *baseSock) closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.has(bClosed)
}

func (b *base) connect(h Socket, remote netip.AddrPort) WSAError {
	s, code := b.sockOf(h)
	if code != 0 {
		return code
	}
	if !remote.IsValid() || remote.Port() == 0 {
		return irp.WSAEINVAL
	}
	if code := s.bindAny(); code != 0 {
		return code
	}
	if s.sotype == SockDgram {
		res := s.call(func(i *irp.IRP) irp.Status {
			return s.ws.Basic().ControlSocket(s.ws, dispatch.Ioctl, dispatch.SIOWskSetRemoteAddress, 0,
				sockaddrOf(remote), nil, nil, i)
		})
		if res.Status != irp.Success {
			return statusCode(res.Status)
		}
		s.mu.Lock()
		s.remote = remote
		s.mu.Unlock()
		return 0
	}
	s.mu.Lock()
	switch {
	case s.st.has(bConnected):
		s.mu.Unlock()
		return WSAEISCONN
	case s.st.has(bConnecting):
		s.mu.Unlock()
		return WSAEALREADY
	case s.st.has(bListening):
		s.mu.Unlock()
		return irp.WSAEINVAL
	}
	s.st |= bConnecting
	s.remote = remote
	nb := s.nonblocking
	s.mu.Unlock()
	var o *bop
	if nb { // nobody waits: the outcome goes to SO_ERROR and FD_CONNECT
		o, code = s.newSilentOp(opConnect)
	} else {
		o, code = s.newOp(opConnect, nil, nil, nil)
	}
	if code != 0 {
		return code
	}
	ret := s.ws.Stream().Connect(s.ws, remote, 0, o.i)
	if nb {
		if ret != irp.Pending && o.published.Load() && o.err != 0 {
			return o.err
		}
		if ret != irp.Pending {
			return 0
		}
		return irp.WSAEWOULDBLOCK
	}
	<-o.waiter
	if o.err == irp.WSAOperationAborted {
		return irp.WSAEINTR
	}
	return o.err
}

// connected records a connect's outcome (FD_CONNECT with its code, SO_ERROR).
func (s *baseSock) connected(st irp.Status) {
	code := statusCode(st)
	if st == irp.ConnectionRefused {
		code = irp.WSAECONNREFUSED
	}
	s.mu.Lock()
	s.st &^= bConnecting
	if st == irp.Success {
		s.st |= bConnected
	} else {
		s.soError = code
	}
	s.mu.Unlock()
	s.connectDone(code)
}

// ioState is the common check of a send or receive: a stream socket must be connected
// and its connection healthy.
func (s *baseSock) ioState() (st bstate, nonblocking bool, code WSAError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.sotype == SockStream && !s.st.has(bConnected):
		code = irp.WSAENOTCONN
	case s.sticky != 0:
		code = s.sticky
	}
	return s.st, s.nonblocking, code
}

// connTable is the connection half of a wsk table: a connection socket's, or a stream
// socket's (which becomes a connection).
type connTable struct {
	send       dispatch.SendFunc
	receive    dispatch.ReceiveFunc
	disconnect dispatch.DisconnectFunc
}

func connOf(ws *dispatch.Socket) (connTable, bool) {
	if t := ws.Connection(); t != nil {
		return connTable{t.Send, t.Receive, t.Disconnect}, true
	}
	if t := ws.Stream(); t != nil {
		return connTable{t.Send, t.Receive, t.Disconnect}, true
	}
	return connTable{}, false
}

func (s *baseSock) conn() connTable {
	t, _ := connOf(s.ws)
	return t
}
