//go:build unix || windows

package wsk

import (
	"net/netip"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/internal/sock"
)

// The members of the connection table. Each is called by dispatch's guard with the IRP
// already entered, and follows the rule of SPEC.md §2.6: return irp.Pending (the IRP completes
// later) or complete the IRP before returning its status.

// maxConnectExData is the largest buffer WskConnectEx takes.
const maxConnectExData = 65535

// syncResult completes the ops a call finished (its own among them) and returns st.
func (s *socket) syncResult(out []*op, st irp.Status) irp.Status {
	s.complete(out)
	return st
}

// bind binds the descriptor; the zero AddrPort is the wildcard.
func (s *socket) bind(local netip.AddrPort) irp.Status {
	if st := checkAddr(int(s.family), local); st != irp.Success {
		return st
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.checkLocked(0); st != irp.Success {
		return st
	}
	if s.state.has(stBound) {
		return irp.InvalidDeviceState
	}
	if err := sock.Bind(s.fd, int(s.family), local); err != nil {
		return sock.Status(err)
	}
	s.state |= stBound
	return irp.Success
}

// connBind is WskBind. Flags must be 0; binding twice is STATUS_INVALID_DEVICE_STATE.
func connBind(ws *dispatch.Socket, local netip.AddrPort, flags dispatch.Flags, i *irp.IRP) irp.Status {
	s := sockOf(ws)
	if flags != 0 {
		return failIRP(i, irp.InvalidParameter)
	}
	return failIRP(i, s.bind(local))
}

// connConnect is WskConnect: the socket must be bound; flags must be 0.
func connConnect(ws *dispatch.Socket, remote netip.AddrPort, flags dispatch.Flags, i *irp.IRP) irp.Status {
	if flags != 0 {
		return failIRP(i, irp.InvalidParameter)
	}
	return sockOf(ws).connect(&op{i: i, kind: opConnect}, remote)
}

// connConnectEx is WskConnectEx: Connect plus an optional first buffer sent once
// connected (the IRP completes when it is in the kernel). Flags ≠ 0 is
// STATUS_INVALID_PARAMETER, a buffer over 65,535 bytes STATUS_BUFFER_OVERFLOW.
func connConnectEx(ws *dispatch.Socket, remote netip.AddrPort, buf *dispatch.Buf, flags dispatch.Flags, i *irp.IRP) irp.Status {
	if flags != 0 || (buf != nil && !buf.Valid()) {
		return failIRP(i, irp.InvalidParameter)
	}
	o := &op{i: i, kind: opConnect}
	if buf != nil {
		if buf.Length > maxConnectExData {
			return failIRP(i, irp.BufferOverflow)
		}
		o.buf = *buf
	}
	return sockOf(ws).connect(o, remote)
}

// connect starts a nonblocking connect for o (Connect, ConnectEx and SocketConnect). It
// completes at once when the kernel connects or fails at once, else on writability.
func (s *socket) connect(o *op, remote netip.AddrPort) irp.Status {
	st := checkAddr(int(s.family), remote)
	if st == irp.Success && (!remote.IsValid() || remote.Port() == 0) {
		st = irp.InvalidParameter
	}
	if st != irp.Success {
		return o.failUnadmitted(st)
	}
	var out []*op
	s.mu.Lock()
	st = s.checkLocked(stBound)
	if st == irp.Success && s.state&(stConnecting|stConnected|stListening) != 0 {
		st = irp.InvalidDeviceState
	}
	if st == irp.Success {
		st = s.admitLocked(o, o.buf.Length)
	}
	if st != irp.Success {
		s.mu.Unlock()
		return o.failUnadmitted(st)
	}
	switch err := sock.Connect(s.fd, int(s.family), remote); {
	case err == nil:
		s.connectedLocked(o, &out)
	case sock.IsInProgress(err):
		s.state |= stConnecting
		s.coldLocked().connectOp = o
		o.queued = true
		s.efd.RearmWrite() // the end of the connect is a write readiness (engine doc: level-triggered)
	default:
		s.finishLocked(o, sock.Status(err), 0, &out)
	}
	st = s.pendLocked(o, &out)
	s.mu.Unlock()
	return s.syncResult(out, st)
}

// failUnadmitted completes the IRP of an op refused before admission, runs its after hook
// as complete does for admitted ops, and recycles it if pooled (nobody else saw it). The
// hook matters: a WskSocketConnect whose connect is refused at once (a remote of the
// other family, port 0, a limit) must still destroy the socket it made, or Deregister
// would wait for it forever.
func (o *op) failUnadmitted(st irp.Status) irp.Status {
	failIRP(o.i, st)
	if o.after != nil {
		o.after(st)
	}
	o.recycle()
	return st
}

// getAddress is WskGetLocalAddress / WskGetRemoteAddress.
func (s *socket) getAddress(addr *netip.AddrPort, i *irp.IRP, need sockState,
	name func(int) (netip.AddrPort, error)) irp.Status {
	if addr == nil {
		return failIRP(i, irp.InvalidParameter)
	}
	s.mu.Lock()
	st := s.checkLocked(need)
	var a netip.AddrPort
	if st == irp.Success {
		var err error
		if a, err = name(s.fd); err != nil {
			st = sock.Status(err)
		}
	}
	s.mu.Unlock()
	if st == irp.Success {
		*addr = a
	}
	return failIRP(i, st)
}

// connGetLocalAddress is WskGetLocalAddress: STATUS_INVALID_DEVICE_STATE until bound.
func connGetLocalAddress(ws *dispatch.Socket, addr *netip.AddrPort, i *irp.IRP) irp.Status {
	return sockOf(ws).getAddress(addr, i, stBound, sock.LocalAddr)
}

// connGetRemoteAddress is WskGetRemoteAddress: STATUS_INVALID_DEVICE_STATE until connected.
func connGetRemoteAddress(ws *dispatch.Socket, addr *netip.AddrPort, i *irp.IRP) irp.Status {
	s := sockOf(ws)
	return s.getAddress(addr, i, stConnected, s.peerNameLocked)
}

// peerNameLocked is getpeername, falling back to the address recorded just before our
// FIN went (pumpSendLocked): once both directions are shut down gracefully Linux answers
// ENOTCONN, but the WSK socket stays connected (fully disconnected, SPEC.md §3.5) until it is
// closed, and still knows its peer. Called with mu held (getAddress).
func (s *socket) peerNameLocked(fd int) (netip.AddrPort, error) {
	a, err := sock.PeerAddr(fd)
	if sock.IsNotConn(err) && s.cold != nil && s.cold.peer.IsValid() {
		return s.cold.peer, nil
	}
	return a, err
}

// connSend is WskSend. The IRP completes when every byte is in the kernel (WSK does not
// buffer): at once, on the caller, when the kernel takes it all and no send is queued
// before it; else later on the loop. WSK_FLAG_NODELAY is accepted (a hint); other flags
// are STATUS_NOT_SUPPORTED. After a graceful Disconnect sends fail with
// STATUS_PIPE_DISCONNECTED (WSAESHUTDOWN); after a reset with the sticky error.
func connSend(ws *dispatch.Socket, buf *dispatch.Buf, flags dispatch.Flags, i *irp.IRP) irp.Status {
	if buf == nil || !buf.Valid() {
		return failIRP(i, irp.InvalidParameter)
	}
	if flags&^dispatch.FlagNoDelay != 0 {
		return failIRP(i, irp.NotSupported)
	}
	s := sockOf(ws)
	o := newIOOp(i, opSend, buf, flags)
	s.mu.Lock()
	st := s.checkLocked(stConnected)
	if st == irp.Success && s.state.has(stSendShut) {
		st = irp.PipeDisconnected
	}
	if st = s.admitAndQueueLocked(o, st, buf.Length, &s.sendQ); st != irp.Success {
		s.mu.Unlock()
		return o.failUnadmitted(st)
	}
	outp := getOut()
	out := *outp
	if s.sendQ.single() {
		s.pumpSendLocked(&out)
	}
	st = s.pendLocked(o, &out)
	if st == irp.Pending {
		s.sendWaitedLocked() // the send backlog event reports the drain (conn_events.go)
	}
	s.mu.Unlock()
	s.complete(out)
	putOut(outp, out)
	return st
}

// connReceive is WskReceive. Flags: WSK_FLAG_WAITALL (complete only when the buffer is
// full, the peer disconnected, or on reset/cancel) or WSK_FLAG_DRAIN (discard until the
// peer's FIN; Length must be 0), not both (STATUS_INVALID_PARAMETER). A zero-length
// receive completes, taking nothing, once data is there. After the peer's graceful
// disconnect a receive completes with success and 0 bytes; after a reset with the sticky
// STATUS_CONNECTION_RESET.
func connReceive(ws *dispatch.Socket, buf *dispatch.Buf, flags dispatch.Flags, i *irp.IRP) irp.Status {
	switch {
	case buf == nil || !buf.Valid():
		return failIRP(i, irp.InvalidParameter)
	case flags&^(dispatch.FlagWaitAll|dispatch.FlagDrain) != 0:
		return failIRP(i, irp.NotSupported)
	case flags&dispatch.FlagWaitAll != 0 && flags&dispatch.FlagDrain != 0:
		return failIRP(i, irp.InvalidParameter)
	case flags&dispatch.FlagDrain != 0 && buf.Length != 0:
		return failIRP(i, irp.InvalidParameter)
	}
	s := sockOf(ws)
	s.mu.Lock()
	st := s.checkLocked(stConnected)
	if st == irp.Success && s.state.has(stRemoteGraceful) {
		s.mu.Unlock()
		i.Complete(irp.Success, 0)
		return irp.Success
	}
	o := newIOOp(i, opRecv, buf, flags)
	if st = s.admitAndQueueLocked(o, st, 0, &s.recvQ); st != irp.Success {
		s.mu.Unlock()
		return o.failUnadmitted(st)
	}
	outp := getOut()
	out := *outp
	if s.recvQ.single() {
		s.pumpRecvLocked(&out)
	}
	st = s.pendLocked(o, &out)
	s.mu.Unlock()
	s.complete(out)
	putOut(outp, out)
	return st
}

// connDisconnect is WskDisconnect (SPEC.md §3.3).
//
// Graceful (flags 0): the optional final buffer is sent after every queued send, then the
// write side is shut down (FIN); the IRP completes after that. New sends fail from the
// call on; receives go on until the peer disconnects. A stuck graceful disconnect is
// forced to complete by an abortive one (STATUS_CONNECTION_ABORTED) or by close
// (STATUS_CANCELLED).
//
// Abortive (WSK_FLAG_ABORTIVE): the buffer must be nil (STATUS_INVALID_PARAMETER
// otherwise); the connection is reset at once, queued sends and receives fail with
// STATUS_CONNECTION_ABORTED, and so does every later send and receive.
func connDisconnect(ws *dispatch.Socket, buf *dispatch.Buf, flags dispatch.Flags, i *irp.IRP) irp.Status {
	s := sockOf(ws)
	var out []*op
	switch flags {
	case dispatch.FlagAbortive:
		if buf != nil {
			return failIRP(i, irp.InvalidParameter)
		}
		s.mu.Lock()
		st := s.checkLocked(stConnected)
		if st == irp.Success {
			s.abortLocked(irp.ConnectionAborted, &out)
		}
		s.mu.Unlock()
		s.complete(out)
		return failIRP(i, st)
	case 0:
	default:
		return failIRP(i, irp.InvalidParameter)
	}
	if buf != nil && !buf.Valid() {
		return failIRP(i, irp.InvalidParameter)
	}
	o := newIOOp(i, opDisconnect, &dispatch.Buf{}, 0) // pooled: every connection ends with one
	if buf != nil {
		o.buf = *buf
	}
	s.mu.Lock()
	st := s.checkLocked(stConnected)
	if st == irp.Success && s.state.has(stSendShut) {
		st = irp.InvalidDeviceState
	}
	if st = s.admitAndQueueLocked(o, st, o.buf.Length, &s.sendQ); st != irp.Success {
		s.mu.Unlock()
		return o.failUnadmitted(st)
	}
	s.state |= stSendShut
	if s.sendQ.single() {
		s.pumpSendLocked(&out)
	}
	st = s.pendLocked(o, &out)
	s.mu.Unlock()
	return s.syncResult(out, st)
}
