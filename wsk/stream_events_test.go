//go:build unix || windows

package wsk

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// newStreamSockCtx is newStreamSock with a socket context.
func newStreamSockCtx(t *testing.T, npi ProviderNPI, ctx any, cd *dispatch.ClientStreamDispatch) *dispatch.Socket {
	t.Helper()
	io := do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, AFInet, SockStream, IPProtoTCP, dispatch.StreamSocket, ctx, cd, i)
	})
	require.Equal(t, irp.Success, io.Status)
	return io.Object.(*dispatch.Socket)
}

// textEvents is a connection table whose ReceiveEvent reports (context, bytes) and whose
// DisconnectEvent reports its flags; retain makes ReceiveEvent keep the lists.
type textEvents struct {
	data    chan rcvText
	lists   chan *dispatch.DataIndication
	fins    chan dispatch.Flags
	backlog chan int
	retain  bool
}

type rcvText struct {
	ctx any
	b   string
}

func newTextEvents(retain bool) *textEvents {
	return &textEvents{data: make(chan rcvText, 16), lists: make(chan *dispatch.DataIndication, 16),
		fins: make(chan dispatch.Flags, 4), backlog: make(chan int, 16), retain: retain}
}

func (e *textEvents) table() *dispatch.ClientConnectionDispatch {
	return &dispatch.ClientConnectionDispatch{
		ReceiveEvent: func(ctx any, _ dispatch.Flags, list *dispatch.DataIndication, _ int, _ *int) irp.Status {
			if list == nil {
				return irp.Success
			}
			if e.retain {
				e.lists <- list // before the data: a test that saw the data finds the list
			}
			e.data <- rcvText{ctx, string(listBytes(list))}
			if e.retain {
				return irp.Pending
			}
			return irp.Success
		},
		DisconnectEvent:  func(_ any, f dispatch.Flags) irp.Status { e.fins <- f; return irp.Success },
		SendBacklogEvent: func(_ any, v int) irp.Status { e.backlog <- v; return irp.Success },
	}
}

// next gathers n bytes of indications (one peer write may come in several).
func (e *textEvents) next(t *testing.T, n int) rcvText {
	t.Helper()
	got := within(t, e.data)
	for len(got.b) < n {
		more := within(t, e.data)
		require.Equal(t, got.ctx, more.ctx)
		got.b += more.b
	}
	return got
}

// TestStreamListenEvents: a stream socket takes the accept event from bind on (before
// Listen too), connection events only once it listens (for the sockets accepted through
// the event to inherit; they cannot be disabled there), and delivers them like a listen
// socket.
func TestStreamListenEvents(t *testing.T) {
	r, npi := newReg(t)
	conn := newTextEvents(false)
	ev := newAcceptEvents(t, irp.Success, conn.table())
	ss := newStreamSockCtx(t, npi, "listener-ctx", &dispatch.ClientStreamDispatch{Listen: ev.table()})
	require.Equal(t, irp.InvalidDeviceState, evSet(ss, dispatch.EventAccept, nil), "before bind")
	require.Equal(t, irp.Success, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.Bind(ss, lsLoopback, 0, i)
	}))
	require.Equal(t, irp.InvalidDeviceState, evSet(ss, dispatch.EventReceive, nil), "connection events while uncommitted")
	require.Equal(t, irp.Success, evSet(ss, dispatch.EventAccept, nil))
	require.Equal(t, irp.Success, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.Listen(ss, i)
	}))
	var addr netip.AddrPort
	require.Equal(t, irp.Success, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.GetLocalAddress(ss, &addr, i)
	}))

	c1 := lsDial(t, addr)
	first := ev.next(t)
	require.NotNil(t, first)
	require.Zero(t, eventsOfSock(first), "nothing to inherit yet")
	lsEcho(t, first, c1)

	require.Equal(t, irp.Success, evSet(ss, dispatch.EventReceive|dispatch.EventDisconnect, nil))
	require.Equal(t, irp.InvalidParameter, evDisable(ss, dispatch.EventReceive, nil), "a listener's connection events stay")
	c2 := lsDial(t, addr)
	second := ev.next(t)
	require.NotNil(t, second)
	writePeer(t, c2, "inherited")
	require.Equal(t, rcvText{"event-ctx", "inherited"}, conn.next(t, 9))
	require.NoError(t, c2.Close())
	require.Zero(t, within(t, conn.fins)&dispatch.FlagAbortive, "graceful")

	require.Equal(t, irp.Success, evDisable(ss, dispatch.EventAccept, nil))
	a := startAccept(t, ss, "irp-ctx", conn.table())
	c3 := lsDial(t, addr)
	io := a.wait()
	require.Equal(t, irp.Success, io.Status)
	third := io.Object.(*dispatch.Socket)
	require.Zero(t, eventsOfSock(third), "WskAccept inherits nothing (invariant 38)")
	lsEcho(t, third, c3)
	require.Empty(t, ev.got)
	for _, s := range []*dispatch.Socket{first, second, third, ss} {
		closeSocketSync(t, s)
	}
	finish(t, r)
}

// TestStreamConnectEvents: a stream socket committed to a connection delivers the
// connection events of its table's Connect half: receive (with retention and Release
// through the stream table), send backlog and disconnect. The accept event is refused
// once it is connected, and connection events before.
func TestStreamConnectEvents(t *testing.T) {
	r, npi := newReg(t)
	p := newPeer(t)
	conn := newTextEvents(true)
	ss := newStreamSockCtx(t, npi, "stream-ctx", &dispatch.ClientStreamDispatch{Connect: conn.table()})
	require.Equal(t, irp.Success, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.Bind(ss, netip.AddrPort{}, 0, i)
	}))
	require.Equal(t, irp.InvalidDeviceState, evSet(ss, dispatch.EventReceive, nil), "before connect")
	require.Equal(t, irp.Success, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.Connect(ss, p.addr(), 0, i)
	}))
	pc := p.accept(t)
	require.Equal(t, irp.InvalidDeviceState, evSet(ss, dispatch.EventAccept, nil), "connected: no listen events")
	require.Equal(t, irp.Success, evSet(ss, dispatch.EventReceive|dispatch.EventDisconnect|dispatch.EventSendBacklog, nil))
	require.Positive(t, within(t, conn.backlog))

	writePeer(t, pc, "stream")
	require.Equal(t, rcvText{"stream-ctx", "stream"}, conn.next(t, 6))
	for len(conn.lists) > 0 {
		require.Equal(t, irp.Success, ss.Stream().Release(ss, <-conn.lists))
	}
	require.NoError(t, pc.Close())
	require.Zero(t, within(t, conn.fins)&dispatch.FlagAbortive, "graceful")
	closeSocketSync(t, ss)
	finish(t, r)
}

// TestStreamStaticEvents: static events apply to a stream socket in the role it takes:
// connection events once connected.
func TestStreamStaticEvents(t *testing.T) {
	r, npi := newReg(t)
	require.Equal(t, irp.Success, setStatic(npi, dispatch.EventReceive|dispatch.EventAccept, nil))
	p := newPeer(t)
	conn := newTextEvents(false)
	ss := newStreamSockCtx(t, npi, "stream-ctx", &dispatch.ClientStreamDispatch{Connect: conn.table()})
	require.Equal(t, irp.Success, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.Bind(ss, netip.AddrPort{}, 0, i)
	}))
	require.Equal(t, irp.Success, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.Connect(ss, p.addr(), 0, i)
	}))
	pc := p.accept(t)
	writePeer(t, pc, "static")
	require.Equal(t, rcvText{"stream-ctx", "static"}, conn.next(t, 6))
	require.Equal(t, irp.InvalidParameter, evDisable(ss, dispatch.EventReceive, nil))
	closeSocketSync(t, ss)
	finish(t, r)
}
