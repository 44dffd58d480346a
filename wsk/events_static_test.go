//go:build unix || windows

package wsk

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// setStatic is WskControlClient(WSK_SET_STATIC_EVENT_CALLBACKS) with mask.
func setStatic(npi ProviderNPI, mask dispatch.EventMask, i *irp.IRP) irp.Status {
	in := dispatch.EventCallbackControl{NpiID: dispatch.NPIWskInterfaceID, EventMask: mask}.Marshal()
	return npi.Dispatch.ControlClient(npi.Client, dispatch.SetStaticEventCallbacks, in, nil, nil, i)
}

// TestStaticEventsRules: WSK_SET_STATIC_EVENT_CALLBACKS takes no IRP and a valid
// WSK_EVENT_CALLBACK_CONTROL, is accepted once, and only before any socket exists.
func TestStaticEventsRules(t *testing.T) {
	r, npi := newReg(t)
	require.Equal(t, irp.InvalidParameter, do(t, 1, func(i *irp.IRP) irp.Status {
		return setStatic(npi, dispatch.EventReceive, i)
	}).Status, "an IRP is refused, and completed")
	bad := dispatch.EventCallbackControl{EventMask: dispatch.EventReceive}.Marshal() // no NPI id
	require.Equal(t, irp.InvalidParameter, npi.Dispatch.ControlClient(npi.Client, dispatch.SetStaticEventCallbacks, bad, nil, nil, nil))
	require.Equal(t, irp.InvalidParameter, npi.Dispatch.ControlClient(npi.Client, dispatch.SetStaticEventCallbacks, []byte{1}, nil, nil, nil))
	require.Equal(t, irp.InvalidParameter, setStatic(npi, 0, nil), "empty mask")
	require.Equal(t, irp.InvalidParameter, setStatic(npi, dispatch.EventReceive|dispatch.EventDisable, nil))
	require.Equal(t, irp.InvalidParameter, setStatic(npi, 0x1, nil), "not an event flag")

	require.Equal(t, irp.Success, setStatic(npi, dispatch.EventReceive|dispatch.EventReceiveFrom, nil))
	require.Equal(t, irp.InvalidDeviceState, setStatic(npi, dispatch.EventReceive, nil), "set once")
	finish(t, r)

	r, npi = newReg(t)
	ws := newConnSocket(t, npi, AFInet)
	require.Equal(t, irp.InvalidDeviceState, setStatic(npi, dispatch.EventReceive, nil), "after a socket was created")
	closeSocketSync(t, ws)
	require.Equal(t, irp.InvalidDeviceState, setStatic(npi, dispatch.EventReceive, nil), "even once it is closed")
	finish(t, r)
}

// TestStaticReceiveFromEvent: a static receive-from event is on from creation (after
// bind) with no SO_WSK_EVENT_CALLBACK, can be neither disabled nor re-enabled, and stays
// enabled after DATA_NOT_ACCEPTED (invariant 34), the refused datagrams going to the
// next ReceiveFrom.
func TestStaticReceiveFromEvent(t *testing.T) {
	r, npi := newReg(t)
	require.Equal(t, irp.Success, setStatic(npi, dispatch.EventReceiveFrom|dispatch.EventReceive, nil))
	ev := newEvRecorder(t)
	ws, local := newDgSocket(t, npi, AFInet, "ctx", ev.dispatch())
	require.Equal(t, dispatch.EventReceiveFrom, eventsOfSock(ws), "only the datagram part of the mask applies")
	c, _ := udpPeer(t, AFInet)

	ev.answer <- irp.Pending
	peerWrite(t, c, local, []byte("static"))
	l := ev.next(t)
	require.EqualValues(t, 6, l.Buffer.Length)
	require.Equal(t, irp.Success, ws.Datagram().Release(ws, l))

	require.Equal(t, irp.InvalidParameter, evDisable(ws, dispatch.EventReceiveFrom, nil), "static: never disabled")
	require.Equal(t, irp.InvalidParameter, setEvents(ws, dispatch.EventReceiveFrom), "static: never re-enabled")

	ev.answer <- irp.DataNotAccepted
	peerWrite(t, c, local, []byte("refused"))
	ev.next(t)
	s := sockOf(ws)
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.gate.running == 0 && len(dgOf(s).backlog) == 1
	}, waitLimit, time.Millisecond)
	require.Equal(t, dispatch.EventReceiveFrom, eventsOfSock(ws), "a static event stays enabled")
	rf := receiveFrom(t, ws, 16)
	io := rf.wait()
	require.Equal(t, irp.Success, io.Status)
	require.Equal(t, "refused", string(rf.buf[:io.Information]))

	ev.answer <- irp.Pending
	peerWrite(t, c, local, []byte("again"))
	l = ev.next(t)
	require.EqualValues(t, 5, l.Buffer.Length)
	require.Equal(t, irp.Success, ws.Datagram().Release(ws, l))
	closeSocketSync(t, ws)
	finish(t, r)
}

// TestStaticConnectionEvents: static connection events work on a socket connected with
// WskSocketConnect and on sockets accepted both ways (invariant 8 only speaks of dynamic
// callbacks); a static accept event delivers with no SO_WSK_EVENT_CALLBACK on the
// listener.
func TestStaticConnectionEvents(t *testing.T) {
	r, npi := newReg(t)
	require.Equal(t, irp.Success, setStatic(npi, dispatch.EventReceive|dispatch.EventDisconnect|dispatch.EventAccept, nil))
	type rcv struct {
		ctx any
		b   string
	}
	data := make(chan rcv, 16)
	fins := make(chan any, 4)
	cd := &dispatch.ClientConnectionDispatch{
		ReceiveEvent: func(ctx any, _ dispatch.Flags, list *dispatch.DataIndication, _ int, _ *int) irp.Status {
			if list != nil {
				data <- rcv{ctx, string(listBytes(list))}
			}
			return irp.Success
		},
		DisconnectEvent: func(ctx any, _ dispatch.Flags) irp.Status { fins <- ctx; return irp.Success },
	}

	// WskSocketConnect.
	p := newPeer(t)
	io := do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.SocketConnect(npi.Client, SockStream, IPProtoTCP, netip.AddrPort{}, p.addr(), 0, "connect-ctx", cd, i)
	})
	require.Equal(t, irp.Success, io.Status)
	ws := io.Object.(*dispatch.Socket)
	require.Equal(t, dispatch.EventReceive|dispatch.EventDisconnect, eventsOfSock(ws))
	// next gathers one peer write (it may come in more than one indication).
	next := func(n int) rcv {
		got := within(t, data)
		for len(got.b) < n {
			more := within(t, data)
			require.Equal(t, got.ctx, more.ctx)
			got.b += more.b
		}
		return got
	}
	pc := p.accept(t)
	writePeer(t, pc, "hello")
	require.Equal(t, rcv{"connect-ctx", "hello"}, next(5))
	require.Equal(t, irp.InvalidParameter, evDisable(ws, dispatch.EventReceive, nil))
	require.NoError(t, pc.Close())
	require.Equal(t, "connect-ctx", within(t, fins))
	closeSocketSync(t, ws)

	// A listener: the static accept event, and both kinds of accepted sockets.
	ev := newAcceptEvents(t, irp.Success, cd)
	ls := newListenSock(t, npi, "listener-ctx", ev.table())
	addr := bindListen(t, ls)
	require.Equal(t, dispatch.EventAccept, eventsOfSock(ls))
	cEv := lsDial(t, addr)
	byEvent := ev.next(t)
	require.NotNil(t, byEvent)
	writePeer(t, cEv, "via event")
	require.Equal(t, rcv{"event-ctx", "via event"}, next(9))

	// A queued Accept IRP still wins over the static accept event (invariant 31).
	a := startAccept(t, ls, "irp-ctx", cd)
	cIRP := lsDial(t, addr)
	io = a.wait()
	require.Equal(t, irp.Success, io.Status)
	byIRP := io.Object.(*dispatch.Socket)
	require.Equal(t, dispatch.EventReceive|dispatch.EventDisconnect, eventsOfSock(byIRP))
	writePeer(t, cIRP, "via irp")
	require.Equal(t, rcv{"irp-ctx", "via irp"}, next(7))
	for _, s := range []*dispatch.Socket{byEvent, byIRP, ls} {
		closeSocketSync(t, s)
	}
	finish(t, r)
}
