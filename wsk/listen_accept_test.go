//go:build unix || windows

package wsk

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// acceptEvents is a listen client table whose AcceptEvent answers with st and reports
// every socket it was offered on got (nil for the dead-listener call).
type acceptEvents struct {
	t   *testing.T
	got chan *dispatch.Socket
	st  irp.Status
	cd  *dispatch.ClientConnectionDispatch
}

func newAcceptEvents(t *testing.T, st irp.Status, cd *dispatch.ClientConnectionDispatch) *acceptEvents {
	return &acceptEvents{t: t, got: make(chan *dispatch.Socket, 16), st: st, cd: cd}
}

func (a *acceptEvents) table() *dispatch.ClientListenDispatch {
	return &dispatch.ClientListenDispatch{
		AcceptEvent: func(ctx any, flags dispatch.Flags, local, remote netip.AddrPort, s *dispatch.Socket) (irp.Status, any, *dispatch.ClientConnectionDispatch) {
			assert.Equal(a.t, "listener-ctx", ctx)
			if s != nil {
				assert.True(a.t, local.IsValid() && remote.IsValid())
			}
			a.got <- s
			return a.st, "event-ctx", a.cd
		},
	}
}

func (a *acceptEvents) next(t *testing.T) *dispatch.Socket {
	t.Helper()
	select {
	case s := <-a.got:
		return s
	case <-time.After(waitLimit):
		require.FailNow(t, "no accept event")
	}
	return nil
}

func ctxOfSock(ws *dispatch.Socket) any {
	s := sockOf(ws)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.socketContext
}

func eventsOfSock(ws *dispatch.Socket) dispatch.EventMask {
	s := sockOf(ws)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events
}

func TestAcceptEventKeep(t *testing.T) {
	r, npi := newReg(t)
	ev := newAcceptEvents(t, irp.Success, nil)
	ls := newListenSock(t, npi, "listener-ctx", ev.table())
	addr := bindListen(t, ls)
	require.Equal(t, irp.Success, lsEnable(t, ls, dispatch.EventAccept))
	c := lsDial(t, addr)
	ws := ev.next(t)
	require.NotNil(t, ws)
	require.Equal(t, dispatch.ConnectionSocket, ws.Category())
	// The socket takes the context when the callback returned: wait for it.
	require.Eventually(t, func() bool { return ctxOfSock(ws) == "event-ctx" }, waitLimit, time.Millisecond)
	require.Zero(t, eventsOfSock(ws), "invariant 8: nothing to inherit, nothing enabled")
	lsEcho(t, ws, c)
	closeSocketSync(t, ws)
	closeSocketSync(t, ls)
	finish(t, r)
}

// Invariant 36: STATUS_REQUEST_NOT_ACCEPTED closes the accepted socket; the peer sees a reset.
func TestAcceptEventReject(t *testing.T) {
	r, npi := newReg(t)
	ev := newAcceptEvents(t, irp.RequestNotAccepted, nil)
	ls := newListenSock(t, npi, "listener-ctx", ev.table())
	addr := bindListen(t, ls)
	require.Equal(t, irp.Success, lsEnable(t, ls, dispatch.EventAccept))
	require.True(t, dialSeesReset(t, addr), "a rejected peer sees a reset")
	require.NotNil(t, ev.next(t))
	closeSocketSync(t, ls)
	finish(t, r)
	require.NotZero(t, r.Stats().ResetsSent)
}

// Invariant 31: a queued Accept IRP is served before the accept event; the event gets
// the connections no IRP waits for. Enabling the event also picks up connections that
// were queued in the kernel before.
func TestAcceptIRPBeforeEvent(t *testing.T) {
	r, npi := newReg(t)
	ev := newAcceptEvents(t, irp.Success, nil)
	ls := newListenSock(t, npi, "listener-ctx", ev.table())
	addr := bindListen(t, ls)
	early := lsDial(t, addr)
	waitQueued(t, ls)
	require.Equal(t, irp.Success, lsEnable(t, ls, dispatch.EventAccept))
	first := ev.next(t)
	lsEcho(t, first, early)

	a := startAccept(t, ls, "irp-ctx", nil)
	require.Equal(t, irp.Pending, a.ret)
	c1 := lsDial(t, addr)
	io := a.wait()
	require.Equal(t, irp.Success, io.Status)
	byIRP := io.Object.(*dispatch.Socket)
	require.Equal(t, "irp-ctx", ctxOfSock(byIRP))
	require.Empty(t, ev.got, "the event must not see the connection the IRP took")
	lsEcho(t, byIRP, c1)

	c2 := lsDial(t, addr)
	byEvent := ev.next(t)
	lsEcho(t, byEvent, c2)
	for _, ws := range []*dispatch.Socket{first, byIRP, byEvent, ls} {
		closeSocketSync(t, ws)
	}
	finish(t, r)
}

// Invariant 38: connection callbacks enabled on the listener are inherited by sockets
// delivered through the accept event only; invariant 8: an accepted socket starts with
// every callback disabled.
func TestAcceptInheritance(t *testing.T) {
	r, npi := newReg(t)
	received := make(chan string, 4)
	cd := &dispatch.ClientConnectionDispatch{
		ReceiveEvent: func(ctx any, _ dispatch.Flags, list *dispatch.DataIndication, n int, _ *int) irp.Status {
			if list != nil {
				received <- ctx.(string)
			}
			return irp.Success
		},
		DisconnectEvent: func(any, dispatch.Flags) irp.Status { return irp.Success },
	}
	ev := newAcceptEvents(t, irp.Success, cd)
	ls := newListenSock(t, npi, "listener-ctx", ev.table())
	addr := bindListen(t, ls)
	require.Equal(t, irp.Success, lsEnable(t, ls, dispatch.EventAccept|dispatch.EventReceive|dispatch.EventDisconnect))

	a := startAccept(t, ls, "irp-ctx", cd)
	cIRP := lsDial(t, addr)
	io := a.wait()
	require.Equal(t, irp.Success, io.Status)
	byIRP := io.Object.(*dispatch.Socket)
	require.Zero(t, eventsOfSock(byIRP), "a socket from WskAccept inherits nothing")

	cEv := lsDial(t, addr)
	byEvent := ev.next(t)
	want := dispatch.EventReceive | dispatch.EventDisconnect
	require.Eventually(t, func() bool { return eventsOfSock(byEvent) == want }, waitLimit, time.Millisecond)
	_, err := cEv.Write([]byte("hi"))
	require.NoError(t, err)
	select {
	case ctx := <-received:
		require.Equal(t, "event-ctx", ctx)
	case <-time.After(waitLimit):
		require.FailNow(t, "the inherited receive event never came")
	}
	lsEcho(t, byIRP, cIRP) // its data goes to IRPs, not to events
	require.Empty(t, received)
	for _, ws := range []*dispatch.Socket{byIRP, byEvent, ls} {
		closeSocketSync(t, ws)
	}
	finish(t, r)
}

// Invariant 37: a listener that dies fails its calls with STATUS_FILE_FORCED_CLOSED and
// tells the accept event with a nil socket.
func TestListenerDead(t *testing.T) {
	requireFixture(t, fixKillListener)
	r, npi := newReg(t)
	ev := newAcceptEvents(t, irp.Success, nil)
	ls := newListenSock(t, npi, "listener-ctx", ev.table())
	bindListen(t, ls)
	require.Equal(t, irp.Success, lsEnable(t, ls, dispatch.EventAccept))
	// shutdown(2) on a listening socket stops it: accept(2) then fails with EINVAL.
	killListener(t, sockOf(ls).fd)
	a := startAccept(t, ls, nil, nil)
	require.Equal(t, irp.FileForcedClosed, a.wait().Status)
	require.Nil(t, ev.next(t), "the dead listener is reported with a nil socket")
	var addr netip.AddrPort
	require.Equal(t, irp.FileForcedClosed, do(t, ls.StackSize(), func(i *irp.IRP) irp.Status {
		return ls.Listen().GetLocalAddress(ls, &addr, i)
	}).Status)
	require.Equal(t, irp.FileForcedClosed, startAccept(t, ls, nil, nil).wait().Status)
	closeSocketSync(t, ls)
	finish(t, r)
}
