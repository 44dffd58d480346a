//go:build unix || windows

package wsk

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// TestAcceptEventDisableWhileRunning checks invariant 35 for WskAcceptEvent: disabling it
// while a call runs answers STATUS_EVENT_PENDING (no IRP) or STATUS_PENDING (the IRP
// completes once the call returned), and a connection that arrives meanwhile is not
// offered to the disabled event: a later WskAccept gets it.
func TestAcceptEventDisableWhileRunning(t *testing.T) {
	r, npi := newReg(t)
	got := make(chan *dispatch.Socket, 8)
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
