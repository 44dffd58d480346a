//go:build unix || windows

package wsk

import (
	"net/netip"
	"sync"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/internal/sock"
)

// acceptReq holds what WskAccept lent until its IRP completes.
type acceptReq struct {
	ctx           any
	cd            *dispatch.ClientConnectionDispatch
	local, remote *netip.AddrPort // may be nil
}

// acceptedConn is a connection taken from the kernel's queue: a provider socket (connection
// category, connected, every callback disabled: invariant 8) not handed out yet.
type acceptedConn struct {
	s             *socket
	local, remote netip.AddrPort
	id            dispatch.InspectID // conditional accept only
}

// acceptedPool recycles acceptedConn records: one per connection accepted, dead once the
// connection is handed out (deliverToIRPLocked, acceptEvent). A record that takes another
// way (held by a conditional listener, reset at close) is left to the collector.
var acceptedPool = sync.Pool{New: func() any { return new(acceptedConn) }}

func putAcceptedConn(c *acceptedConn) {
	*c = acceptedConn{}
	acceptedPool.Put(c)
}

// adoptSocket builds the record of a connection socket around fd, a connection sock.Accept
// returned (nonblocking, close-on-exec), and registers it with the engine. On failure
// the caller still owns fd.
func (r *Registration) adoptSocket(fd, family int) (*socket, irp.Status) {
	if st := r.reserveSocket(); st != irp.Success {
		return nil, st
	}
	s := &socket{reg: r, family: uint8(family), fd: fd}
	s.state = stConnected | stBound
	if st := r.registerSocket(s, &connectionTable); st != irp.Success {
		return nil, st
	}
	return s, irp.Success
}

// kernelAcceptLocked takes one connection from the kernel's queue. irp.Pending: none is
// queued. Errors accept(2) reports for the new connection itself (it died in the queue)
// are skipped; running out of descriptors or memory is STATUS_INSUFFICIENT_RESOURCES; any
// other error means the listener is gone: STATUS_FILE_FORCED_CLOSED.
func (s *socket) kernelAcceptLocked() (*acceptedConn, irp.Status) {
	for {
		nfd, remote, err := sock.Accept(s.fd)
		switch {
		case err == nil:
		case sock.IsAgain(err):
			s.efd.RearmRead()
			return nil, irp.Pending
		case sock.AcceptRetry(err):
			continue
		case sock.IsNoResources(err):
			return nil, irp.InsufficientResources
		default:
			return nil, irp.FileForcedClosed
		}
		c := acceptedPool.Get().(*acceptedConn)
		c.remote = remote
		c.local, _ = sock.LocalAddr(nfd) // the zero AddrPort if it fails
		ns, st := s.reg.adoptSocket(nfd, int(s.family))
		if st != irp.Success {
			// Nobody will own it: reset it rather than let the peer wait.
			sock.SetLingerZero(nfd)
			_ = sock.Close(nfd)
			s.reg.ctr.resetsSent.Add(1)
			return nil, st
		}
		c.s = ns
		return c, irp.Success
	}
}

// deliverToIRPLocked completes the Accept IRP o with c: the new socket takes the
// context and connection table WskAccept named, with every callback disabled (it does
// not inherit the listener's connection callbacks, invariant 38).
func (s *socket) deliverToIRPLocked(o *op, c *acceptedConn, out *[]*op) {
	a := o.acc
	ns := c.s
	ns.mu.Lock()
	ns.socketContext = a.ctx
	if a.cd != nil {
		ns.clientDispatch = a.cd
	}
	clearHeldWatchLocked(ns) // a conditional connection's watcher (listen_inspect.go) is done
	ns.handedOutLocked()     // its static events start (events.go)
	ns.mu.Unlock()
	if a.local != nil {
		*a.local = c.local
	}
	if a.remote != nil {
		*a.remote = c.remote
	}
	o.obj = &ns.ws
	s.finishLocked(o, irp.Success, 0, out)
	putAcceptedConn(c)
}

// listenAccept is WskAccept (listen sockets, and stream sockets once listening). Flags
// must be 0. It completes at once with the new socket in IoStatus.Object when a
// connection is queued, else the IRP waits (it is served before the accept event,
// invariant 31); closing the listener cancels it. local and remote, when not nil, get the
// addresses.
func listenAccept(ws *dispatch.Socket, flags dispatch.Flags, acceptContext any,
	acceptDispatch *dispatch.ClientConnectionDispatch, local, remote *netip.AddrPort, i *irp.IRP) irp.Status {
	if flags != 0 {
		return failIRP(i, irp.InvalidParameter)
	}
	s := sockOf(ws)
	o := &op{i: i, kind: opAccept, acc: &acceptReq{ctx: acceptContext, cd: acceptDispatch, local: local, remote: remote}}
	var out []*op
	s.mu.Lock()
	if st := s.admitAndQueueLocked(o, s.checkLocked(stListening), 0, &s.sendQ); st != irp.Success {
		s.mu.Unlock()
		return o.failUnadmitted(st)
	}
	s.serveListenLocked(&out, nil, false)
	if s.state.has(stDead) {
		s.listenSide().kick(s) // the loop tells the application through the events
	}
	st := s.pendLocked(o, &out)
	s.mu.Unlock()
	return s.syncResult(out, st)
}

// acceptEvent offers c to WskAcceptEvent (on the loop, no lock held). irp.Success keeps
// it: the socket takes the returned context and table, and the connection callbacks
// enabled on the listener (invariant 38: only sockets delivered here inherit them). Any
// other answer — STATUS_REQUEST_NOT_ACCEPTED, a panic, or a listener already closing —
// closes it abortively: the peer sees a reset (invariant 36).
//
// The caller (serveListenLocked) began EventAccept in the event gate and took a callbacks
// reference for this call; both end here, after the socket was settled.
//
// A call queued behind another callback of the loop may find the listener dead by the
// time it starts (an inspect call before it accepted a connection, and serving that one
// found the death). Then c is reset, never offered, and this call tells the NULL socket
// instead (invariant 37): it holds the gate, so the NULL accept waited for it
// (deadNotice, listen.go), and a connection offered after the NULL socket would be one
// the application no longer expects.
func (s *socket) acceptEvent(c *acceptedConn) {
	defer putAcceptedConn(c) // runs last: nothing below keeps c
	defer s.callbacks.Release()
	defer s.endAcceptEvent()
	s.mu.Lock()
	dead := s.state.has(stDead)
	tell := false
	if dead && s.listenSide().told&deadToldAccept == 0 {
		s.listenSide().told |= deadToldAccept
		tell = s.acceptEventOnLocked()
	}
	s.mu.Unlock()
	if dead {
		c.s.closeProtocol(nil) // never handed out: no guard to go through
		if tell {
			s.callAcceptDead()
		}
		return
	}
	cb := s.listenSide().client.AcceptEvent
	st := irp.RequestNotAccepted
	var actx any
	var acd *dispatch.ClientConnectionDispatch
	s.invokeCallback("AcceptEvent", func() {
		st, actx, acd = cb(s.socketContext, 0, c.local, c.remote, &c.s.ws)
	})
	if st != irp.Success {
		c.s.closeOffered()
		return
	}
	s.mu.Lock()
	inherit := s.events & (dispatch.EventReceive | dispatch.EventDisconnect | dispatch.EventSendBacklog)
	s.mu.Unlock()
	ns := c.s
	ns.mu.Lock()
	ns.socketContext = actx
	if acd != nil {
		ns.clientDispatch = acd
	}
	clearHeldWatchLocked(ns)
	ns.handedOutLocked() // its static events start (events.go)
	if inherit != 0 {
		// Starts the connection-event delivery (events.go), which also looks again for
		// data that arrived before the events were on.
		ns.enabledLocked(inherit)
	}
	ns.mu.Unlock()
}

// endAcceptEvent ends an accept callback in the event gate (events.go): the disables
// that waited for it complete (invariant 35), and the loop looks again for the next
// connection, since serveListenLocked starts one accept call at a time.
func (s *socket) endAcceptEvent() {
	var done []*irp.IRP
	s.mu.Lock()
	s.endEventLocked(dispatch.EventAccept, &done)
	if !s.state.has(stClosing) {
		s.listenSide().kick(s)
	}
	s.mu.Unlock()
	completeDisables(done)
}
