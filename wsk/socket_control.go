//go:build unix || windows

package wsk

import (
	"encoding/binary"
	"math/bits"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/internal/sock"
)

// controlSocket is WskControlSocket for every category. The IRP is optional for options
// and required for the backlog IOCTLs (STATUS_INVALID_PARAMETER without one). Option
// values are 4-byte little-endian integers, the backlog IOCTLs return an 8-byte SIZE_T;
// a short output buffer gives STATUS_BUFFER_OVERFLOW with *outReturned set to the size
// needed. Unknown options and IOCTLs are STATUS_NOT_SUPPORTED.
func controlSocket(ws *dispatch.Socket, reqType dispatch.ControlType, code, level uint32,
	in, out []byte, outReturned *int, i *irp.IRP) irp.Status {
	s := sockOf(ws)
	if s == nil {
		return ctlDone(i, irp.InvalidHandle, 0, nil)
	}
	switch reqType {
	case dispatch.SetOption, dispatch.GetOption:
		if reqType == dispatch.SetOption && level == dispatch.SOLSocket && code == dispatch.SOWskEventCallback {
			return s.eventCallbackControl(in, i)
		}
		if level == dispatch.SOLSocket && code == SOCancelKeepsSent {
			return s.cancelKeepsSentOption(reqType == dispatch.SetOption, in, out, outReturned, i) // options_cancel.go
		}
		if level == dispatch.SOLSocket && code == dispatch.SOConditionalAccept && s.listenSide() != nil {
			// SO_CONDITIONAL_ACCEPT: listen_inspect.go
			return s.conditionalAcceptOption(reqType == dispatch.SetOption, in, out, outReturned, i)
		}
		return s.option(reqType == dispatch.SetOption, code, level, in, out, outReturned, i)
	case dispatch.Ioctl:
		if s.category() == dispatch.DatagramSocket && (code == dispatch.SIOWskSetRemoteAddress || code == dispatch.SIOWskSetSendToAddress) {
			return s.datagramIoctl(code, in, i)
		}
		return s.ioctl(code, out, outReturned, i)
	}
	return ctlDone(i, irp.InvalidParameter, 0, nil)
}

// ctlDone finishes a control request: *outReturned gets n (on success, and the size
// needed on BUFFER_OVERFLOW), the IRP (if any) completes with st and n.
func ctlDone(i *irp.IRP, st irp.Status, n int, outReturned *int) irp.Status {
	if outReturned != nil && (st == irp.Success || st == irp.BufferOverflow) {
		*outReturned = n
	}
	if i != nil {
		if st != irp.Success {
			n = 0
		}
		i.Complete(st, uintptr(n))
	}
	return st
}

// osOption maps a Winsock (level, name) to the option's meaning (package sock); ok is
// false when not supported (sock.Supported: the keep-alive timing is not settable per
// socket on every OS).
func osOption(level, code uint32) (opt sock.Option, settable, ok bool) {
	switch {
	case level == dispatch.SOLSocket && code == SOKeepAlive:
		return sock.OptKeepAlive, true, true
	case level == dispatch.SOLSocket && code == SOSndBuf:
		return sock.OptSndBuf, true, true
	case level == dispatch.SOLSocket && code == SORcvBuf:
		return sock.OptRcvBuf, true, true
	case level == dispatch.SOLSocket && code == SOError:
		return sock.OptError, false, true
	case level == IPProtoTCP && code == TCPNoDelay:
		return sock.OptNoDelay, true, true
	case level == IPProtoTCP && code == TCPKeepAlive:
		return sock.OptKeepIdle, true, sock.Supported(sock.OptKeepIdle)
	case level == IPProtoTCP && code == TCPKeepIntvl:
		return sock.OptKeepIntvl, true, sock.Supported(sock.OptKeepIntvl)
	}
	return 0, false, false
}

// option gets or sets one integer option on the descriptor.
func (s *socket) option(set bool, code, level uint32, in, out []byte, outReturned *int, i *irp.IRP) irp.Status {
	opt, settable, ok := osOption(level, code)
	if !ok || (set && !settable) {
		return ctlDone(i, irp.NotSupported, 0, nil)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.has(stDead) {
		return ctlDone(i, irp.FileForcedClosed, 0, nil)
	}
	if set {
		if len(in) < 4 {
			return ctlDone(i, irp.InvalidParameter, 0, nil)
		}
		v := int(int32(binary.LittleEndian.Uint32(in)))
		if err := sock.SetInt(s.fd, opt, v); err != nil {
			return ctlDone(i, sock.Status(err), 0, nil)
		}
		return ctlDone(i, irp.Success, 0, outReturned)
	}
	if len(out) < 4 {
		return ctlDone(i, irp.BufferOverflow, 4, outReturned)
	}
	v, err := sock.GetInt(s.fd, opt) // buffer sizes as Winsock counts them (Linux doubles them)
	if err != nil {
		return ctlDone(i, sock.Status(err), 0, nil)
	}
	binary.LittleEndian.PutUint32(out, uint32(int32(v)))
	return ctlDone(i, irp.Success, 4, outReturned)
}

// ioctl serves SIO_WSK_QUERY_RECEIVE_BACKLOG (bytes waiting to be received),
// SIO_WSK_QUERY_IDEAL_SEND_BACKLOG (the send buffer size, the provider's ideal backlog)
// and SIOQuerySendQueue (sendqueue.go). All need a connected socket and an IRP.
func (s *socket) ioctl(code uint32, out []byte, outReturned *int, i *irp.IRP) irp.Status {
	if code != dispatch.SIOWskQueryReceiveBacklog && code != dispatch.SIOWskQueryIdealSendBacklog &&
		code != SIOQuerySendQueue {
		return ctlDone(i, irp.NotSupported, 0, nil)
	}
	if i == nil {
		return irp.InvalidParameter
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.checkLocked(stConnected); st != irp.Success {
		return ctlDone(i, st, 0, nil)
	}
	if len(out) < 8 {
		return ctlDone(i, irp.BufferOverflow, 8, outReturned)
	}
	var v int
	var err error
	switch code {
	case dispatch.SIOWskQueryReceiveBacklog:
		v, err = sock.ReceiveQueue(s.fd)
		v += s.heldBytesLocked() // read by the receive event, not taken yet (conn_events.go)
	case SIOQuerySendQueue:
		v, err = s.sendQueueLocked() // sendqueue_count.go
	default:
		v, err = sock.IdealSendBacklog(s.fd)
	}
	if err != nil {
		return ctlDone(i, sock.Status(err), 0, nil)
	}
	binary.LittleEndian.PutUint64(out, uint64(v))
	return ctlDone(i, irp.Success, 8, outReturned)
}

// eventsOf is the set of events a category may enable (SPEC.md §2.7).
func eventsOf(cat dispatch.SocketFlags) dispatch.EventMask {
	switch cat {
	case dispatch.ConnectionSocket:
		return dispatch.EventReceive | dispatch.EventDisconnect | dispatch.EventSendBacklog
	case dispatch.ListenSocket:
		return dispatch.EventAccept | dispatch.EventReceive | dispatch.EventDisconnect | dispatch.EventSendBacklog
	case dispatch.DatagramSocket:
		return dispatch.EventReceiveFrom
	case dispatch.StreamSocket:
		return dispatch.EventAccept | dispatch.EventReceive | dispatch.EventDisconnect | dispatch.EventSendBacklog
	}
	return 0
}

// eventCallbackControl is SO_WSK_EVENT_CALLBACK (SPEC.md §2.7, §9): the input must name
// NPI_WSK_INTERFACE_ID and events of the socket's category. Enabling (several flags at
// once) takes no IRP; disabling takes one flag with WSK_EVENT_DISABLE and an optional
// IRP. Anything else is STATUS_INVALID_PARAMETER, and so is naming an event enabled by
// WSK_SET_STATIC_EVENT_CALLBACKS (never disabled or re-enabled) or disabling a
// connection event on a listener (there it only says what sockets accepted through
// WskAcceptEvent inherit, and it cannot be disabled). A dead socket answers
// STATUS_FILE_FORCED_CLOSED. Enabling too early is STATUS_INVALID_DEVICE_STATE
// (enableStateLocked).
//
// The accepted mask is recorded in socket.events (under mu); the deliveries are
// connEvents (conn_events.go), the listener (listen.go, listen_accept.go) and the datagram
// pump (datagram_events.go). Disabling a callback that is running stops new calls at
// once and pends: STATUS_EVENT_PENDING without an IRP, STATUS_PENDING with one,
// completed once the call returned (eventGate, invariant 35). A disable IRP is
// completed with no lock held.
func (s *socket) eventCallbackControl(in []byte, i *irp.IRP) irp.Status {
	c, ok := dispatch.ParseEventCallbackControl(in)
	mask := c.EventMask &^ dispatch.EventDisable
	disable := c.EventMask&dispatch.EventDisable != 0
	switch {
	case !ok || c.NpiID != dispatch.NPIWskInterfaceID || mask == 0 || mask&^eventsOf(s.category()) != 0:
		return ctlDone(i, irp.InvalidParameter, 0, nil)
	case !disable && i != nil:
		return ctlDone(i, irp.InvalidParameter, 0, nil)
	case disable && bits.OnesCount32(uint32(mask)) != 1:
		return ctlDone(i, irp.InvalidParameter, 0, nil)
	}
	s.mu.Lock()
	st := irp.Success
	switch {
	case s.state.has(stDead):
		st = irp.FileForcedClosed
	case mask&s.staticMaskLocked() != 0:
		st = irp.InvalidParameter
	case disable && mask&connEventMask != 0 && s.listenRoleLocked():
		st = irp.InvalidParameter
	case disable:
		st = s.disableLocked(mask, i)
		s.mu.Unlock()
		if st == irp.Pending || st == irp.EventPending {
			return st // the IRP (if any) completes when the running callback returns
		}
		return ctlDone(i, st, 0, nil)
	default:
		st = s.enableStateLocked(mask)
	}
	if st == irp.Success {
		s.enabledLocked(mask) // starts or wakes the delivery (events.go)
		if s.listenSide() != nil && s.state.has(stListening) {
			s.listenSide().kick(s) // connections may already wait in the kernel queue (listen.go)
		}
	}
	s.mu.Unlock()
	return ctlDone(i, st, 0, nil)
}

// listenRoleLocked reports whether s is, or may still become, a listener: a listen
// socket, or a stream socket that has not committed to a connection.
func (s *socket) listenRoleLocked() bool {
	return s.category() == dispatch.ListenSocket ||
		(s.category() == dispatch.StreamSocket && s.state&(stConnecting|stConnected) == 0)
}

// enableStateLocked says whether mask may be enabled now (SPEC.md §2.7: after bind for listen and
// datagram sockets, after connect for connection sockets): STATUS_INVALID_DEVICE_STATE
// when too early. Stream sockets (SPEC.md §9, model): not before bind; the accept event while
// uncommitted or listening; connection events once connected (on a listener, to be
// inherited by sockets accepted through the event); nothing while connecting. Connection
// events on an uncommitted stream socket are refused: the socket would not know whether
// they are its own or its accepted sockets' once it commits.
func (s *socket) enableStateLocked(mask dispatch.EventMask) irp.Status {
	switch s.category() {
	case dispatch.ConnectionSocket:
		if !s.state.has(stConnected) {
			return irp.InvalidDeviceState
		}
	case dispatch.ListenSocket, dispatch.DatagramSocket:
		if !s.state.has(stBound) {
			return irp.InvalidDeviceState
		}
	case dispatch.StreamSocket:
		switch {
		case !s.state.has(stBound), s.state.has(stConnecting):
			return irp.InvalidDeviceState
		case s.state.has(stConnected):
			if mask&dispatch.EventAccept != 0 {
				return irp.InvalidDeviceState
			}
		case !s.state.has(stListening):
			if mask&connEventMask != 0 {
				return irp.InvalidDeviceState
			}
		}
	}
	return irp.Success
}
