//go:build unix

package wsk

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// Two WSK_EVENT_DISABLE IRPs waiting for the same running callback both complete once it
// returns, and not before (invariant 35): the socket's list of waiters (socketCold)
// releases every waiter whose event stopped running, not only the first.
func TestDisableWaitersAllReleased(t *testing.T) {
	r, npi := newReg(t)
	got := make(chan *dispatch.Socket, 1)
	proceed := make(chan struct{})
	ls := newListenSock(t, npi, nil, &dispatch.ClientListenDispatch{
		AcceptEvent: func(_ any, _ dispatch.Flags, _, _ netip.AddrPort, s *dispatch.Socket) (irp.Status, any, *dispatch.ClientConnectionDispatch) {
			got <- s
			<-proceed
			return irp.Success, nil, nil
		},
	})
	addr := bindListen(t, ls)
	require.Equal(t, irp.Success, evSet(ls, dispatch.EventAccept, nil))
	lsDial(t, addr)
	first := within(t, got)
	require.NotNil(t, first)

	waiters := make([]*pcall, 3)
	for k := range waiters {
		waiters[k] = start(t, 1, func(i *irp.IRP) irp.Status { return evSet(ls, dispatch.EventAccept|dispatch.EventDisable, i) })
		require.Equal(t, irp.Pending, waiters[k].ret, "disable %d waits for the running callback", k)
	}
	for k, w := range waiters {
		require.False(t, w.completed(), "disable %d completed while the callback runs", k)
	}
	close(proceed)
	for k, w := range waiters {
		require.Equal(t, irp.Success, w.wait().Status, "disable %d completes once the callback returned", k)
	}
	for _, s := range []*dispatch.Socket{first, ls} {
		closeSocketSync(t, s)
	}
	finish(t, r)
}
