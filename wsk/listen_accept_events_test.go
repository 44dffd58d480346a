//go:build unix || windows

package wsk

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// blockedAccept is a bound listen socket with WskAcceptEvent enabled whose callback
// sends each socket it is offered on got, then waits for proceed (one receive per call,
// or close(proceed)) and keeps the connection; first is the socket of the call that is
// running (dialled by newBlockedAccept).
type blockedAccept struct {
	ls, first *dispatch.Socket
	addr      netip.AddrPort
	got       chan *dispatch.Socket
	proceed   chan struct{}
}

func newBlockedAccept(t *testing.T, npi ProviderNPI) *blockedAccept {
	t.Helper()
	b := &blockedAccept{got: make(chan *dispatch.Socket, 8), proceed: make(chan struct{})}
	b.ls = newListenSock(t, npi, nil, &dispatch.ClientListenDispatch{
		AcceptEvent: func(_ any, _ dispatch.Flags, _, _ netip.AddrPort, s *dispatch.Socket) (irp.Status, any, *dispatch.ClientConnectionDispatch) {
			b.got <- s
			<-b.proceed
			return irp.Success, nil, nil
		},
	})
	b.addr = bindListen(t, b.ls)
	require.Equal(t, irp.Success, evSet(b.ls, dispatch.EventAccept, nil))
	lsDial(t, b.addr)
	b.first = within(t, b.got)
	require.NotNil(t, b.first)
	return b
}

// TestAcceptEventDisableWhileRunning checks invariant 35 for WskAcceptEvent: disabling it
// while a call runs answers STATUS_EVENT_PENDING (no IRP) or STATUS_PENDING (the IRP
// completes once the call returned), and a connection that arrives meanwhile is not
// offered to the disabled event: a later WskAccept gets it.
func TestAcceptEventDisableWhileRunning(t *testing.T) {
	r, npi := newReg(t)
	ba := newBlockedAccept(t, npi)
	ls, addr, got, proceed, first := ba.ls, ba.addr, ba.got, ba.proceed, ba.first
	require.Equal(t, irp.EventPending, evDisable(ls, dispatch.EventAccept, nil))
	proceed <- struct{}{}

	require.Equal(t, irp.Success, evSet(ls, dispatch.EventAccept, nil))
	lsDial(t, addr)
	second := within(t, got)
	require.NotNil(t, second)
	p := start(t, 1, func(i *irp.IRP) irp.Status { return evDisable(ls, dispatch.EventAccept, i) })
	require.Equal(t, irp.Pending, p.ret)
	c3 := lsDial(t, addr) // queued in the kernel while the call runs, the event disabled
	require.False(t, p.completed(), "the disable IRP completes only after the callback returned")
	proceed <- struct{}{}
	require.Equal(t, irp.Success, p.wait().Status)

	a := startAccept(t, ls, nil, nil)
	io := a.wait()
	require.Equal(t, irp.Success, io.Status, "the connection waited for an Accept")
	third := io.Object.(*dispatch.Socket)
	lsEcho(t, third, c3)
	require.Empty(t, got, "no accept call after the disable")
	close(proceed)
	for _, s := range []*dispatch.Socket{first, second, third, ls} {
		closeSocketSync(t, s)
	}
	finish(t, r)
}

// Two WSK_EVENT_DISABLE IRPs waiting for the same running callback both complete once it
// returns, and not before (invariant 35): the socket's list of waiters (socketCold)
// releases every waiter whose event stopped running, not only the first.
func TestDisableWaitersAllReleased(t *testing.T) {
	r, npi := newReg(t)
	ba := newBlockedAccept(t, npi)
	ls := ba.ls
	waiters := make([]*pcall, 3)
	for k := range waiters {
		waiters[k] = start(t, 1, func(i *irp.IRP) irp.Status { return evDisable(ls, dispatch.EventAccept, i) })
		require.Equal(t, irp.Pending, waiters[k].ret, "disable %d waits for the running callback", k)
	}
	for k, w := range waiters {
		require.False(t, w.completed(), "disable %d completed while the callback runs", k)
	}
	close(ba.proceed)
	for k, w := range waiters {
		require.Equal(t, irp.Success, w.wait().Status, "disable %d completes once the callback returned", k)
	}
	for _, s := range []*dispatch.Socket{ba.first, ls} {
		closeSocketSync(t, s)
	}
	finish(t, r)
}
