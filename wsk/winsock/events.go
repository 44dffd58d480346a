package winsock

import (
	"encoding/binary"
	"net/netip"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// Network events (WSAEventSelect) of the base provider, from wsk's event callbacks:
//
//	FD_READ     WskReceiveEvent (answered DATA_NOT_ACCEPTED: the bytes wait for a
//	            receive, and wsk indicates nothing more until one completed), and after a
//	            receive when bytes are still waiting
//	FD_WRITE    once connected (or accepted), and after a WSAEWOULDBLOCK send once the
//	            queue drained
//	FD_ACCEPT   WskAcceptEvent: the connection is kept in a bounded backlog for accept
//	FD_CONNECT  a connect completed, with its code
//	FD_CLOSE    WskDisconnectEvent: the peer's FIN (code 0) or reset (WSAECONNRESET)
//
// Nothing is signalled once WSPCloseSocket has begun (ev.closing): no FD_CLOSE to a
// socket closed locally, and no FD_ACCEPT or FD_CONNECT during its closure. Callbacks
// run on wsk's loops: they only record bits and set the event.

// evsel is a base socket's WSAEventSelect state (under baseSock.mu).
type evsel struct {
	ev       *Event
	mask     int32
	pending  int32
	errs     [FDMaxEvents]WSAError
	closing  bool // WSPCloseSocket began: signal nothing more
	armed    dispatch.EventMask
	wantW    bool        // a send returned WSAEWOULDBLOCK: FD_WRITE when it drains
	backlog  []*baseSock // connections WskAcceptEvent delivered, for accept
	backAddr []netip.AddrPort
}

const maxAcceptBacklog = 128

var (
	baseConnEvents = dispatch.ClientConnectionDispatch{
		ReceiveEvent: func(ctx any, _ dispatch.Flags, list *dispatch.DataIndication, _ int, _ *int) irp.Status {
			if s, ok := ctx.(*baseSock); ok && list != nil {
				s.signal(FDReadBit, 0)
			}
			return irp.DataNotAccepted
		},
		DisconnectEvent: func(ctx any, flags dispatch.Flags) irp.Status {
			if s, ok := ctx.(*baseSock); ok {
				var code WSAError
				if flags&dispatch.FlagAbortive != 0 {
					code = irp.WSAECONNRESET
				}
				s.signal(FDCloseBit, code)
			}
			return irp.Success
		},
		SendBacklogEvent: func(any, int) irp.Status { return irp.Success },
	}
	baseListenEvents = dispatch.ClientListenDispatch{
		AcceptEvent: func(ctx any, _ dispatch.Flags, _, remote netip.AddrPort, a *dispatch.Socket) (irp.Status, any, *dispatch.ClientConnectionDispatch) {
			s, ok := ctx.(*baseSock)
			if !ok || a == nil {
				return irp.RequestNotAccepted, nil, nil
			}
			ns := &baseSock{b: s.b, af: s.af, sotype: SockStream, ops: make(map[*bop]struct{})}
			s.mu.Lock()
			if s.ev.closing || len(s.ev.backlog) >= maxAcceptBacklog {
				s.mu.Unlock()
				return irp.RequestNotAccepted, nil, nil // the peer sees a reset
			}
			ns.ws = a
			s.ev.backlog = append(s.ev.backlog, ns)
			s.ev.backAddr = append(s.ev.backAddr, remote)
			s.mu.Unlock()
			s.signal(FDAcceptBit, 0)
			return irp.Success, ns, &baseConnEvents
		},
	}
)

// signal records one network event and sets the selected event object.
func (s *baseSock) signal(bit int, code WSAError) {
	s.mu.Lock()
	e := &s.ev
	if e.closing || e.mask&(1<<bit) == 0 {
		s.mu.Unlock()
		return
	}
	e.pending |= 1 << bit
	e.errs[bit] = code
	ev := e.ev
	s.mu.Unlock()
	WSASetEvent(ev)
}

// readDone: after a receive, bytes still waiting make FD_READ again (an asynchronous
// backlog query: this may run on a wsk loop).
func (s *baseSock) readDone() {
	s.mu.Lock()
	want := s.ev.mask&FDRead != 0 && !s.ev.closing && s.st.has(bConnected)
	s.mu.Unlock()
	if !want {
		return
	}
	out := make([]byte, 8)
	i := irp.Allocate(s.ws.StackSize())
	i.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		if i.IoStatus.Status == irp.Success && binary.LittleEndian.Uint64(out) > 0 {
			s.signal(FDReadBit, 0)
		}
		i.Free()
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	_ = s.ws.Basic().ControlSocket(s.ws, dispatch.Ioctl, dispatch.SIOWskQueryReceiveBacklog, 0, nil, out, nil, i)
}

func (s *baseSock) wouldBlockWrite() {
	s.mu.Lock()
	s.ev.wantW = true
	s.mu.Unlock()
}

// writeDone: the send queue drained after a WSAEWOULDBLOCK: FD_WRITE.
func (s *baseSock) writeDone() {
	s.mu.Lock()
	fire := s.ev.wantW && s.bgSends == 0
	if fire {
		s.ev.wantW = false
	}
	s.mu.Unlock()
	if fire {
		s.signal(FDWriteBit, 0)
	}
}

// acceptDone: more connections waiting in the backlog make FD_ACCEPT again.
func (s *baseSock) acceptDone() {
	s.mu.Lock()
	more := len(s.ev.backlog) > 0
	s.mu.Unlock()
	if more {
		s.signal(FDAcceptBit, 0)
	}
}

// connectDone: FD_CONNECT with the outcome; FD_WRITE and the connection events once
// connected.
func (s *baseSock) connectDone(code WSAError) {
	s.signal(FDConnectBit, code)
	if code == 0 {
		s.arm()
		s.signal(FDWriteBit, 0)
	}
}

// arm enables the wsk events the selection needs, once the socket is in a state that
// allows them (wsk refuses events before bind or connect).
func (s *baseSock) arm() {
	s.mu.Lock()
	var want dispatch.EventMask
	switch {
	case s.ev.mask == 0 || s.ev.closing:
	case s.st.has(bListening):
		want = dispatch.EventAccept
	case s.st.has(bConnected):
		want = dispatch.EventReceive | dispatch.EventDisconnect
	}
	want &^= s.ev.armed
	s.ev.armed |= want
	s.mu.Unlock()
	if want == 0 {
		return
	}
	in := dispatch.EventCallbackControl{NpiID: dispatch.NPIWskInterfaceID, EventMask: want}.Marshal()
	_ = s.ws.Basic().ControlSocket(s.ws, dispatch.SetOption, dispatch.SOWskEventCallback, dispatch.SOLSocket, in, nil, nil, nil)
}

// eventSelect is WSPEventSelect: ev and mask replace the earlier selection (mask 0
// cancels it); the socket becomes nonblocking. Conditions that already hold are
// signalled at once (FD_WRITE on a connected socket, FD_READ with bytes waiting,
// FD_ACCEPT with connections waiting).
func (b *base) eventSelect(h Socket, ev *Event, mask int32) WSAError {
	s, code := b.sockOf(h)
	if code != 0 {
		return code
	}
	if mask&^fdAll != 0 {
		return irp.WSAEINVAL
	}
	if mask != 0 && ev == nil {
		return WSAInvalidHandle
	}
	s.mu.Lock()
	s.ev.ev, s.ev.mask, s.ev.pending = ev, mask, 0
	if mask != 0 {
		s.nonblocking = true
	}
	connected, backlog := s.st.has(bConnected), len(s.ev.backlog)
	s.mu.Unlock()
	s.arm()
	if connected {
		s.signal(FDWriteBit, 0)
		if n, _ := s.receiveBacklog(); n > 0 {
			s.signal(FDReadBit, 0)
		}
	}
	if backlog > 0 {
		s.signal(FDAcceptBit, 0)
	}
	return 0
}

// enumNetworkEvents is WSPEnumNetworkEvents: the events recorded since the last call,
// cleared; ev (if not nil) is reset.
func (b *base) enumNetworkEvents(h Socket, ev *Event, ne *NetworkEvents) WSAError {
	s, code := b.sockOf(h)
	if code != 0 {
		return code
	}
	if ne == nil {
		return WSAEFAULT
	}
	s.mu.Lock()
	ne.NetworkEvents = s.ev.pending
	ne.ErrorCode = s.ev.errs
	s.ev.pending = 0
	s.ev.errs = [FDMaxEvents]WSAError{}
	s.mu.Unlock()
	if ev != nil {
		WSAResetEvent(ev)
	}
	return 0
}

// takeBacklog returns a connection WskAcceptEvent delivered, if any.
func (s *baseSock) takeBacklog() (*baseSock, netip.AddrPort, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ev.backlog) == 0 {
		return nil, netip.AddrPort{}, false
	}
	ns, r := s.ev.backlog[0], s.ev.backAddr[0]
	s.ev.backlog, s.ev.backAddr = s.ev.backlog[1:], s.ev.backAddr[1:]
	return ns, r, true
}

// inherit gives an accepted socket the listener's selection (Windows: the accepted
// socket has the listener's WSAEventSelect), armed, with its FD_WRITE.
func (s *baseSock) inherit(ns *baseSock) {
	s.mu.Lock()
	ev, mask := s.ev.ev, s.ev.mask
	s.mu.Unlock()
	if mask == 0 {
		return
	}
	ns.mu.Lock()
	ns.ev.ev, ns.ev.mask, ns.nonblocking = ev, mask, true
	ns.mu.Unlock()
	ns.arm()
	ns.signal(FDWriteBit, 0)
}
