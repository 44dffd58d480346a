package main

// gowsk's own echo servers, written the way package wsk documents its use:
//
//   - "wsk" (event mode, the fast path): the listen socket has WskAcceptEvent,
//     WskReceiveEvent and WskDisconnectEvent enabled; accepted sockets inherit the
//     connection events, the receive event copies the indicated bytes into the
//     connection's own buffer and echoes them with one Send IRP. No IRP waits while a
//     connection is idle and no buffer is held before its first request.
//   - "wsk-irp" (IRP mode): one Accept IRP loops on the listener; every connection owns
//     one IRP and one 4 KiB buffer and runs Receive → Send → Receive … with them.
//
// Both reuse their IRPs (IoReuseIrp) and buffers for the life of a connection. A call
// that completes at once runs its completion routine on the caller, so the loops are
// written as trampolines ("Pending is returned iff PendingReturned is set", SPEC.md §4.5): a
// routine that sees PendingReturned false leaves the next step to the caller's loop.
//
// On the peer's FIN a connection disconnects gracefully (its FIN goes after the echoes
// still queued) and then closes, so a clean client sees a clean close, no reset; on a
// reset or any error it closes at once. Stopping the server closes the listener and
// every connection abortively, waits for every close IRP, releases the NPI and
// deregisters: nothing of the provider is left running.

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
)

func init() {
	register("wsk", func() EchoServer { return &wskEventServer{} })
	register("wsk-irp", func() EchoServer { return &wskIRPServer{} })
	// The several-loops rows: the event server with GOMAXPROCS=2 (still pinned to one
	// CPU, beside the load generator on the other) and one or two engine loops, so the
	// cost of a second loop shows on its own.
	register("wsk-p2-1loop", func() EchoServer { return &wskEventServer{procs: 2, loops: 1} })
	register("wsk-p2-2loops", func() EchoServer { return &wskEventServer{procs: 2, loops: 2} })
}

// wskServerLimits are the provider bounds of the echo servers. The defaults
// (wsk.DefaultLimits) already admit 1<<20 sockets and 1<<20 pending IRPs; they are
// spelled out so that the 10 000-connection runs do not depend on a default changing.
// Per connection the event server holds at most one Send, one graceful Disconnect and
// one zero-length Receive pending, the IRP server one Receive or Send and one
// Disconnect. The process itself is capped lower by RLIMIT_NOFILE (20 000 here).
var wskServerLimits = wsk.Limits{
	MaxSockets:              1 << 16, // > RLIMIT_NOFILE: the kernel, not the provider, is the cap
	MaxPendingTotal:         1 << 18, // 4 per connection at 65 536 connections
	MaxPendingPerSocket:     16,      // 3 pend at most (see above); a stop's abortive Disconnect completes at once
	MaxQueuedBytesPerSocket: 4 << 20, // pinned send bytes; also the receive-event indication room
}

// wskEventPendCap bounds the bytes one event connection buffers while its Send is in
// flight. Past it the receive event answers STATUS_DATA_NOT_ACCEPTED, the provider
// pauses the events, and a zero-length Receive re-arms them once the Send drained:
// WSK's own backpressure, so a client that never reads cannot grow the server.
const wskEventPendCap = 256 << 10

// wskEventPauses counts receive events answered DATA_NOT_ACCEPTED (and so zero-length
// Receives that re-armed the events), for the tests: the backpressure path must run.
var wskEventPauses atomic.Uint64

// wskIRPBufSize is the receive buffer of an IRP-mode connection (as stdlib's 4 KiB).
const wskIRPBufSize = 4096

// wskProvider is one registration with its captured provider NPI.
type wskProvider struct {
	reg *wsk.Registration
	npi wsk.ProviderNPI
}

// openWSK registers with loops engine loops (0: GOMAXPROCS) and the options opts.
func openWSK(limits wsk.Limits, loops int, opts ...wsk.Option) (*wskProvider, error) {
	if loops <= 0 {
		loops = runtime.GOMAXPROCS(0)
	}
	opts = append([]wsk.Option{wsk.WithLoops(loops), wsk.WithLimits(limits)}, opts...)
	reg, st := wsk.Register(&wsk.ClientNPI{Dispatch: &dispatch.ClientDispatch{Version: dispatch.MakeVersion(1, 0)}},
		opts...)
	if st != irp.Success {
		return nil, fmt.Errorf("wsk.Register: %v", st)
	}
	npi, st := reg.CaptureProviderNPI(dispatch.InfiniteWait)
	if st != irp.Success {
		reg.Deregister()
		return nil, fmt.Errorf("CaptureProviderNPI: %v", st)
	}
	return &wskProvider{reg: reg, npi: npi}, nil
}

// close releases the NPI and deregisters; every socket must be closed already.
func (p *wskProvider) close() {
	p.reg.ReleaseProviderNPI()
	p.reg.Deregister()
}

// listen makes a listen socket bound (and so listening) on addr and returns it with the
// bound address.
func (p *wskProvider) listen(addr string, ctx any, cd *dispatch.ClientListenDispatch) (*dispatch.Socket, string, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen address %q: %w", addr, err)
	}
	fam := wsk.AFInet
	if ap.Addr().Is6() && !ap.Addr().Is4In6() {
		fam = wsk.AFInet6
	}
	var clientDispatch any
	if cd != nil {
		clientDispatch = cd
	}
	bg := context.Background()
	res := wsk.Call(bg, 1, func(i *irp.IRP) irp.Status {
		return p.npi.Dispatch.Socket(p.npi.Client, fam, wsk.SockStream, wsk.IPProtoTCP, dispatch.ListenSocket, ctx, clientDispatch, i)
	})
	if res.Status != irp.Success {
		return nil, "", fmt.Errorf("WskSocket(listen): %v", res.Status)
	}
	ls := res.Object.(*dispatch.Socket)
	lt := ls.Listen()
	res = wsk.Call(bg, ls.StackSize(), func(i *irp.IRP) irp.Status { return lt.Bind(ls, ap, 0, i) })
	var bound netip.AddrPort
	if res.Status == irp.Success {
		res = wsk.Call(bg, ls.StackSize(), func(i *irp.IRP) irp.Status { return lt.GetLocalAddress(ls, &bound, i) })
	}
	if res.Status != irp.Success {
		closeSync(ls)
		return nil, "", fmt.Errorf("WskBind/WskGetLocalAddress %s: %v", addr, res.Status)
	}
	return ls, bound.String(), nil
}

// closeSync closes s from ordinary Go code and waits for its close IRP.
func closeSync(s *dispatch.Socket) {
	wsk.Call(context.Background(), s.StackSize(), func(i *irp.IRP) irp.Status { return s.Basic().CloseSocket(s, i) })
}

// setNoDelay sets TCP_NODELAY, as Go's net does on every TCP connection. An option set
// takes no IRP (it completes synchronously), so callbacks may do it.
func setNoDelay(s *dispatch.Socket) {
	_ = s.Basic().ControlSocket(s, dispatch.SetOption, wsk.TCPNoDelay, wsk.IPProtoTCP, wskOptionOn, nil, nil, nil)
}

// wskOptionOn is the input of every boolean option set to 1: the provider only reads
// it, and one shared slice spares every connection a 4-byte allocation.
var wskOptionOn = []byte{1, 0, 0, 0}

// wskConn is one connection of either server (one record type, so that nothing per
// connection says which: a 16-byte interface to the outer record was a fifth of it):
// the socket, its once-only shutdown (graceful Disconnect then CloseSocket, or
// CloseSocket at once) on an IRP of its own, its links in the server's connection set,
// and the Send records.
//
//	out, pend  event server (under mu): the Send in flight (nil: none) and the bytes
//	           indicated while it was in flight (wskEventReceive). IRP server
//	           (wcIRPMode): out is the connection's own IRP and 4 KiB buffer, used by one
//	           request at a time; pend and mu are unused.
//
// 64 bytes (size class 64) is all an idle event connection costs the server.
type wskConn struct {
	s          *dispatch.Socket
	set        *wskConnSet
	prev, next *wskConn      // the set's list, under set.mu
	flags      atomic.Uint32 // wc* bits
	mu         sync.Mutex
	out, pend  *wskTx
}

// The bits of wskConn.flags, in one word so that a connection record stays small.
//
//	wcClosing   the shutdown began (set once, by the first shutdown)
//	wcGraceful  the shutdown is a graceful Disconnect that has not finished
//	wcByStop    the server's stop began the shutdown (set before its first call)
//	wcInSet     the connection is in its set's list (changed under set.mu)
//	wcPaused    event server: its receive events are paused (under mu)
//	wcIRPMode   IRP server: out is the connection's own (set before it is shared)
//	wcRecvDone  IRP server: the request on out's IRP is a Receive (set before the call,
//	            since the completion may run before the call returns)
const (
	wcClosing uint32 = 1 << iota
	wcGraceful
	wcByStop
	wcInSet
	wcPaused
	wcIRPMode
	wcRecvDone
)

// conn is the socket's connection table.
func (c *wskConn) conn() *dispatch.ConnectionDispatch { return c.s.Connection() }

// byStop reports whether the server's stop began the shutdown.
func (c *wskConn) byStop() bool { return c.flags.Load()&wcByStop != 0 }

// closed frees what the connection still holds, in the close IRP's routine: every other
// IRP of the socket has completed by then (the close IRP completes last).
func (c *wskConn) closed() {
	if c.flags.Load()&wcIRPMode != 0 {
		c.closedIRP()
		return
	}
	c.closedEvent()
}

// shutdown starts the end of the connection once; later calls do nothing, except that
// the server's stop (byStop) cuts a graceful Disconnect short: a peer that stopped
// reading would otherwise hold it, and the stop, forever. byStop also says the stop,
// not the connection's own request loop, closes it.
func (c *wskConn) shutdown(graceful, byStop bool) {
	if c.flags.Or(wcClosing)&wcClosing != 0 {
		if byStop && c.flags.Load()&wcGraceful != 0 {
			// An abortive Disconnect completes the graceful one with
			// STATUS_CONNECTION_ABORTED; its routine then closes. On a socket already
			// closed the guard refuses the call: harmless.
			ai := irp.Allocate(c.s.StackSize())
			ai.SetCompletionRoutine(wskFreeIRP, nil, irp.InvokeAlways)
			c.conn().Disconnect(c.s, nil, dispatch.FlagAbortive, ai)
		}
		return
	}
	if byStop {
		c.flags.Or(wcByStop)
	}
	ci := irp.Allocate(c.s.StackSize())
	if graceful {
		c.flags.Or(wcGraceful)
		ci.SetCompletionRoutine(wskDisconnected, c, irp.InvokeAlways)
		c.conn().Disconnect(c.s, nil, 0, ci)
		return
	}
	c.closeWith(ci)
}

func wskFreeIRP(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
	i.Free()
	return irp.MoreProcessingRequired
}

// wskDisconnected runs when the graceful Disconnect finished (or failed): close now.
func wskDisconnected(_ *irp.Device, i *irp.IRP, ctx any) irp.Status {
	c := ctx.(*wskConn)
	c.flags.And(^wcGraceful)
	i.Reuse(irp.Success)
	c.closeWith(i)
	return irp.MoreProcessingRequired
}

func (c *wskConn) closeWith(ci *irp.IRP) {
	ci.SetCompletionRoutine(wskClosed, c, irp.InvokeAlways)
	c.s.Basic().CloseSocket(c.s, ci) // always Pending: the routine finishes the job
}

// wskClosed is the close IRP's routine: the socket and all its IRPs are finished.
func wskClosed(_ *irp.Device, i *irp.IRP, ctx any) irp.Status {
	c := ctx.(*wskConn)
	i.Free()
	c.closed()
	c.set.remove(c)
	return irp.MoreProcessingRequired
}

// wskConnSet tracks live connections so that stopping the server can close them all and
// wait for every close IRP. It is an intrusive list (the links live in each wskConn):
// a map would cost every connection an entry and its growth.
type wskConnSet struct {
	mu       sync.Mutex
	head     *wskConn
	n        int
	stopping bool
	wg       sync.WaitGroup
}

// add records c; false once the server is stopping (the caller then closes c).
func (cs *wskConnSet) add(c *wskConn) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.stopping {
		return false
	}
	c.next = cs.head
	if cs.head != nil {
		cs.head.prev = c
	}
	cs.head = c
	c.flags.Or(wcInSet)
	cs.n++
	cs.wg.Add(1)
	return true
}

func (cs *wskConnSet) remove(c *wskConn) {
	cs.mu.Lock()
	ok := c.flags.Load()&wcInSet != 0
	if ok {
		if c.prev != nil {
			c.prev.next = c.next
		} else {
			cs.head = c.next
		}
		if c.next != nil {
			c.next.prev = c.prev
		}
		c.prev, c.next = nil, nil
		c.flags.And(^wcInSet)
		cs.n--
	}
	cs.mu.Unlock()
	if ok {
		cs.wg.Done()
	}
}

// closeAll refuses new connections, closes every live one abortively and waits for
// their close IRPs.
func (cs *wskConnSet) closeAll() {
	cs.mu.Lock()
	cs.stopping = true
	live := make([]*wskConn, 0, cs.n)
	for c := cs.head; c != nil; c = c.next {
		live = append(live, c)
	}
	cs.mu.Unlock()
	for _, c := range live {
		c.shutdown(false, true)
	}
	cs.wg.Wait()
}

// ---- event mode ----

// wskEventServer is the "wsk" server: accept, receive and disconnect events. procs, if
// set, is the GOMAXPROCS the server sets for itself; loops the engine loops (0: GOMAXPROCS).
type wskEventServer struct {
	conns        wskConnSet
	engine       wsk.EngineKind // EngineDefault ("wsk"), EnginePortable ("wsk-portable")
	procs, loops int
}

// wskListenEvents and wskConnEvents are the client tables: static, shared by every
// socket; the socket context says which connection an event is for.
var (
	wskListenEvents = dispatch.ClientListenDispatch{AcceptEvent: wskEventAccept}
	wskConnEvents   = dispatch.ClientConnectionDispatch{ReceiveEvent: wskEventReceive, DisconnectEvent: wskEventDisconnect}
)

// An event connection (wskConn) shares out and pend between the receive event and the
// Send completion (loop goroutine, or a canceller at close) under mu:
//
//	out       the Send in flight (nil: none, the connection is not sending): its IRP,
//	          Buf and bytes
//	pend      bytes indicated while that Send was in flight, sent when it completes
//	wcPaused  (a bit of flags, changed under mu) the last receive event answered
//	          DATA_NOT_ACCEPTED (pend was full): a zero-length Receive re-arms the
//	          events once the Send drained
//
// An idle connection holds no IRP and no buffer: out and pend come from wskTxPool when
// bytes arrive and go back when the Send completes with nothing behind it, as a peer's
// loop-owned buffer would, and the re-arm Receive's IRP is allocated for it and freed by
// its routine.

// wskTx is one Send: its IRP, the Buf the call describes it with (the provider copies
// it) and the bytes. Pooled with its IRP, which is reused (IoReuseIrp) across Sends.
type wskTx struct {
	i    *irp.IRP
	buf  dispatch.Buf
	data []byte
}

// wskTxMax is the largest buffer wskTxPool keeps: bigger ones (a burst queued behind a
// slow Send) are left to the collector rather than pinned by the pool.
const wskTxMax = 64 << 10

var wskTxPool sync.Pool

// getTx returns a Send record with an IRP of stack size n and an empty buffer.
func getTx(n int) *wskTx {
	t, _ := wskTxPool.Get().(*wskTx)
	if t == nil || t.i.StackCount() != n {
		if t != nil {
			t.i.Free()
		}
		t = &wskTx{i: irp.Allocate(n)}
	}
	t.data = t.data[:0]
	return t
}

// putTx gives t back once its Send completed (its IRP is idle again).
func putTx(t *wskTx) {
	if cap(t.data) > wskTxMax {
		t.i.Free()
		return
	}
	t.buf = dispatch.Buf{}
	wskTxPool.Put(t)
}

// wskEmptyBuf is the Buf of every re-arm Receive: zero length, only read.
var wskEmptyBuf dispatch.Buf

func (v *wskEventServer) Serve(addr string, ready func(string), stop <-chan struct{}) error {
	if v.procs > 0 {
		runtime.GOMAXPROCS(v.procs)
	}
	p, err := openWSK(wskServerLimits, v.loops, wsk.WithEngine(v.engine))
	if err != nil {
		return err
	}
	ls, bound, err := p.listen(addr, v, &wskListenEvents)
	if err != nil {
		p.close()
		return err
	}
	// Accepted sockets inherit the connection events enabled on the listener
	// (invariant 38), so one option set arms every connection.
	in := dispatch.EventCallbackControl{NpiID: dispatch.NPIWskInterfaceID,
		EventMask: dispatch.EventAccept | dispatch.EventReceive | dispatch.EventDisconnect}.Marshal()
	if st := ls.Basic().ControlSocket(ls, dispatch.SetOption, dispatch.SOWskEventCallback, dispatch.SOLSocket, in, nil, nil, nil); st != irp.Success {
		closeSync(ls)
		p.close()
		return fmt.Errorf("SO_WSK_EVENT_CALLBACK on the listener: %v", st)
	}
	ready(bound)
	<-stop
	v.conns.mu.Lock()
	v.conns.stopping = true // accept events from now on reject
	v.conns.mu.Unlock()
	closeSync(ls)
	v.conns.closeAll()
	p.close()
	return nil
}

// wskEventAccept is WskAcceptEvent: keep the connection with its own context and the
// shared connection table. A nil socket means the listener died; stop closes it.
func wskEventAccept(ctx any, _ dispatch.Flags, _, _ netip.AddrPort, s *dispatch.Socket) (irp.Status, any, *dispatch.ClientConnectionDispatch) {
	v := ctx.(*wskEventServer)
	if s == nil {
		return irp.Success, nil, nil
	}
	c := &wskConn{s: s, set: &v.conns}
	if !v.conns.add(c) {
		return irp.RequestNotAccepted, nil, nil // stopping: the provider resets it
	}
	setNoDelay(s)
	return irp.Success, c, &wskConnEvents
}

// closedEvent gives an event connection's Send records back (closed).
func (c *wskConn) closedEvent() {
	c.mu.Lock()
	out, pend := c.out, c.pend
	c.out, c.pend = nil, nil
	c.mu.Unlock()
	if out != nil {
		putTx(out)
	}
	if pend != nil {
		putTx(pend)
	}
}

// appendIndication appends the bytes of every element of list to dst: the list goes
// back to the provider when the event returns, so the bytes must be copied out.
func appendIndication(dst []byte, list *dispatch.DataIndication) []byte {
	for e := list; e != nil; e = e.Next {
		n := len(dst)
		dst = slices.Grow(dst, e.Buffer.Length)[:n+e.Buffer.Length]
		e.Buffer.CopyTo(0, dst[n:])
	}
	return dst
}

// wskEventReceive is WskReceiveEvent: copy the bytes and send them back, or queue them
// behind the Send in flight. A nil list means the socket is dead: close it.
func wskEventReceive(ctx any, _ dispatch.Flags, list *dispatch.DataIndication, n int, _ *int) irp.Status {
	c := ctx.(*wskConn)
	if list == nil {
		c.shutdown(false, false)
		return irp.Success
	}
	c.mu.Lock()
	if c.out != nil {
		if c.pend != nil && len(c.pend.data)+n > wskEventPendCap {
			c.flags.Or(wcPaused)
			c.mu.Unlock()
			wskEventPauses.Add(1)
			return irp.DataNotAccepted
		}
		if c.pend == nil {
			c.pend = getTx(c.s.StackSize())
		}
		c.pend.data = appendIndication(c.pend.data, list)
		c.mu.Unlock()
		return irp.Success
	}
	t := getTx(c.s.StackSize())
	t.data = appendIndication(t.data, list)
	c.out = t
	c.mu.Unlock()
	c.send(t)
	return irp.Success
}

// send starts the Send of t (c.out) on its IRP. Its routine does the rest whether it
// completes at once or later; the nesting is at most two deep (a Send completing inline
// from wskEventSent finds pend empty, since only the serial receive event fills it).
func (c *wskConn) send(t *wskTx) {
	t.i.Reuse(irp.Success)
	t.i.SetCompletionRoutine(wskEventSent, c, irp.InvokeAlways)
	t.buf = dispatch.MakeBuf(t.data)
	c.conn().Send(c.s, &t.buf, 0, t.i)
}

// wskEventSent is the Send IRP's routine: send what was indicated meanwhile, or go idle
// (re-arming paused events).
func wskEventSent(_ *irp.Device, i *irp.IRP, ctx any) irp.Status {
	c := ctx.(*wskConn)
	ok := i.IoStatus.Status == irp.Success
	c.mu.Lock()
	done := c.out
	if !ok || c.pend == nil {
		c.out = nil
		rearm := c.flags.And(^wcPaused)&wcPaused != 0 && ok
		c.mu.Unlock()
		putTx(done) // its IRP completed: idle, reusable
		if !ok {
			c.shutdown(false, false) // reset, or cancelled by close
		} else if rearm {
			c.rearm()
		}
		return irp.MoreProcessingRequired
	}
	next := c.pend
	c.out, c.pend = next, nil
	c.mu.Unlock()
	putTx(done)
	c.send(next)
	return irp.MoreProcessingRequired
}

// rearm posts a zero-length Receive: it completes once data is waiting, and its
// completion resumes the paused receive events (WSK's rule after DATA_NOT_ACCEPTED).
func (c *wskConn) rearm() {
	ri := irp.Allocate(c.s.StackSize())
	ri.SetCompletionRoutine(wskEventRearmed, c, irp.InvokeAlways)
	c.conn().Receive(c.s, &wskEmptyBuf, 0, ri)
}

func wskEventRearmed(_ *irp.Device, i *irp.IRP, ctx any) irp.Status {
	ok := i.IoStatus.Status == irp.Success
	i.Free()
	if !ok {
		ctx.(*wskConn).shutdown(false, false)
	}
	return irp.MoreProcessingRequired
}

// wskEventDisconnect is WskDisconnectEvent: a FIN ends the connection gracefully (after
// the echoes already queued), a reset at once.
func wskEventDisconnect(ctx any, flags dispatch.Flags) irp.Status {
	ctx.(*wskConn).shutdown(flags&dispatch.FlagAbortive == 0, false)
	return irp.Success
}

// ---- IRP mode ----

// wskIRPServer is the "wsk-irp" server: an Accept IRP loop and, per connection, one IRP
// looping Receive → Send.
type wskIRPServer struct {
	ls    *dispatch.Socket
	ai    *irp.IRP
	conns wskConnSet
}

func (v *wskIRPServer) Serve(addr string, ready func(string), stop <-chan struct{}) error {
	p, err := openWSK(wskServerLimits, 0)
	if err != nil {
		return err
	}
	ls, bound, err := p.listen(addr, nil, nil)
	if err != nil {
		p.close()
		return err
	}
	v.ls, v.ai = ls, irp.Allocate(ls.StackSize())
	v.acceptLoop()
	ready(bound)
	<-stop
	v.conns.mu.Lock()
	v.conns.stopping = true
	v.conns.mu.Unlock()
	closeSync(ls) // cancels the Accept IRP; its routine stops the loop
	v.conns.closeAll()
	p.close()
	return nil
}

// acceptLoop posts the Accept IRP until one pends; completions that arrive later
// (PendingReturned) continue the loop from the routine.
func (v *wskIRPServer) acceptLoop() {
	for {
		v.ai.Reuse(irp.Success)
		v.ai.SetCompletionRoutine(wskIRPAccepted, v, irp.InvokeAlways)
		if v.ls.Listen().Accept(v.ls, 0, nil, nil, nil, nil, v.ai) == irp.Pending {
			return
		}
		if !v.accepted(v.ai.IoStatus) {
			return
		}
	}
}

func wskIRPAccepted(_ *irp.Device, i *irp.IRP, ctx any) irp.Status {
	v := ctx.(*wskIRPServer)
	if i.PendingReturned() && v.accepted(i.IoStatus) {
		v.acceptLoop()
	}
	return irp.MoreProcessingRequired
}

// accepted takes one Accept result and reports whether to post the next Accept.
func (v *wskIRPServer) accepted(io irp.IoStatusBlock) bool {
	switch io.Status {
	case irp.Success:
	case irp.InsufficientResources:
		// Out of descriptors (EMFILE): the provider reset that connection. Try again
		// shortly rather than spin; the load side reports the failed dial.
		time.AfterFunc(10*time.Millisecond, func() {
			v.conns.mu.Lock()
			stopping := v.conns.stopping
			v.conns.mu.Unlock()
			if !stopping {
				v.acceptLoop()
			}
		})
		return false
	default:
		return false // cancelled by close, or the listener died
	}
	s := io.Object.(*dispatch.Socket)
	c := &wskConn{s: s, set: &v.conns,
		out: &wskTx{i: irp.Allocate(s.StackSize()), data: make([]byte, wskIRPBufSize)}}
	c.flags.Store(wcIRPMode)
	if !v.conns.add(c) {
		c.shutdown(false, true) // stopping; asynchronous: this may run in a routine
		return false
	}
	setNoDelay(s)
	c.run(irp.IoStatusBlock{Status: irp.Success})
	return true
}

// run is the connection's trampoline: given the result of the request that just
// finished on c.out's IRP (a Send, or nothing yet at the start), it posts the next one, and
// keeps going while requests complete at once. It returns once one pends (its routine
// calls run again, possibly before the call has even returned here, so nothing of c is
// touched after a Pending) or the connection ends.
func (c *wskConn) run(io irp.IoStatusBlock) {
	t := c.out
	for {
		if io.Status != irp.Success {
			c.shutdown(false, false) // reset, cancelled by close, or refused after close
			return
		}
		var st irp.Status
		t.i.Reuse(irp.Success)
		t.i.SetCompletionRoutine(wskIRPDone, c, irp.InvokeAlways)
		if c.flags.Load()&wcRecvDone != 0 {
			// A Receive finished: echo what it got; 0 bytes is the peer's FIN.
			n := int(io.Information)
			if n == 0 {
				c.shutdown(true, false)
				return
			}
			t.buf = dispatch.MakeBuf(t.data[:n])
			c.flags.And(^wcRecvDone)
			st = c.conn().Send(c.s, &t.buf, 0, t.i)
		} else {
			// Start, or a Send finished: receive the next request.
			t.buf = dispatch.MakeBuf(t.data)
			c.flags.Or(wcRecvDone)
			st = c.conn().Receive(c.s, &t.buf, 0, t.i)
		}
		if st == irp.Pending {
			return
		}
		io = t.i.IoStatus
	}
}

// closedIRP frees an IRP connection's IRP (closed). A stop may close the connection
// while run is still between two calls on another goroutine (the Accept routine): then
// the IRP is left to the GC.
func (c *wskConn) closedIRP() {
	if !c.byStop() {
		c.out.i.Free()
	}
}

func wskIRPDone(_ *irp.Device, i *irp.IRP, ctx any) irp.Status {
	c := ctx.(*wskConn)
	if i.PendingReturned() {
		c.run(i.IoStatus)
	}
	return irp.MoreProcessingRequired
}
