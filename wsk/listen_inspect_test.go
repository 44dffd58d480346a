//go:build unix || windows

package wsk

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// inspector is a conditional-accept client table: InspectEvent answers with action and
// reports each ID; AbortEvent reports the aborted IDs.
type inspector struct {
	t       *testing.T
	action  dispatch.InspectAction
	ids     chan dispatch.InspectID
	aborted chan dispatch.InspectID
	remotes chan netip.AddrPort
}

func newInspector(t *testing.T, action dispatch.InspectAction) *inspector {
	return &inspector{t: t, action: action, ids: make(chan dispatch.InspectID, 8),
		aborted: make(chan dispatch.InspectID, 8), remotes: make(chan netip.AddrPort, 8)}
}

func (n *inspector) table() *dispatch.ClientListenDispatch {
	return &dispatch.ClientListenDispatch{
		InspectEvent: func(ctx any, local, remote netip.AddrPort, id *dispatch.InspectID) dispatch.InspectAction {
			if assert.NotNil(n.t, id) {
				n.ids <- *id
				n.remotes <- remote
			}
			return n.action
		},
		AbortEvent: func(ctx any, id *dispatch.InspectID) irp.Status {
			n.aborted <- *id
			return irp.Success
		},
	}
}

func recvID(t *testing.T, ch chan dispatch.InspectID) dispatch.InspectID {
	t.Helper()
	select {
	case id := <-ch:
		return id
	case <-time.After(waitLimit):
		require.FailNow(t, "no inspect/abort event")
	}
	return dispatch.InspectID{}
}

func setConditional(t *testing.T, ws *dispatch.Socket) irp.Status {
	t.Helper()
	in := binary.LittleEndian.AppendUint32(nil, 1)
	return ws.Basic().ControlSocket(ws, dispatch.SetOption, dispatch.SOConditionalAccept, dispatch.SOLSocket, in, nil, nil, nil)
}

// newConditional makes a bound conditional-accept listener.
func newConditional(t *testing.T, npi ProviderNPI, n *inspector) (*dispatch.Socket, netip.AddrPort) {
	t.Helper()
	ls := newListenSock(t, npi, nil, n.table())
	require.Equal(t, irp.Success, setConditional(t, ls))
	out := make([]byte, 4)
	var got int
	require.Equal(t, irp.Success, ls.Basic().ControlSocket(ls, dispatch.GetOption, dispatch.SOConditionalAccept, dispatch.SOLSocket, nil, out, &got, nil))
	require.Equal(t, uint32(1), binary.LittleEndian.Uint32(out))
	addr := bindListen(t, ls)
	require.Equal(t, irp.InvalidDeviceState, setConditional(t, ls), "SO_CONDITIONAL_ACCEPT only before bind")
	return ls, addr
}

func inspectComplete(t *testing.T, ls *dispatch.Socket, id dispatch.InspectID, action dispatch.InspectAction) irp.Status {
	t.Helper()
	return do(t, ls.StackSize(), func(i *irp.IRP) irp.Status {
		return ls.Listen().InspectComplete(ls, &id, action, i)
	}).Status
}

func TestConditionalReject(t *testing.T) {
	r, npi := newReg(t)
	n := newInspector(t, dispatch.InspectReject)
	ls, addr := newConditional(t, npi, n)
	a := startAccept(t, ls, nil, nil)
	require.True(t, dialSeesReset(t, addr), "a rejected connection is reset")
	recvID(t, n.ids)
	require.False(t, a.completed(), "a rejected connection is never accepted")
	closeSocketSync(t, ls)
	require.Equal(t, irp.Cancelled, a.wait().Status)
	finish(t, r)
}

func TestConditionalAccept(t *testing.T) {
	r, npi := newReg(t)
	n := newInspector(t, dispatch.InspectAccept)
	ls, addr := newConditional(t, npi, n)
	c := lsDial(t, addr)
	recvID(t, n.ids)
	require.Equal(t, c.LocalAddr().(*net.TCPAddr).AddrPort(), <-n.remotes)
	a := startAccept(t, ls, nil, nil) // the connection waits in the ready list for it
	io := a.wait()
	require.Equal(t, irp.Success, io.Status)
	ws := io.Object.(*dispatch.Socket)
	lsEcho(t, ws, c)
	closeSocketSync(t, ws)
	closeSocketSync(t, ls)
	finish(t, r)
}

func TestConditionalPendComplete(t *testing.T) {
	r, npi := newReg(t)
	n := newInspector(t, dispatch.InspectPend)
	ls, addr := newConditional(t, npi, n)
	a := startAccept(t, ls, nil, nil)
	require.Equal(t, irp.Pending, a.ret)

	c := lsDial(t, addr)
	id := recvID(t, n.ids)
	require.False(t, a.completed(), "a pended connection waits for InspectComplete")
	require.Equal(t, irp.InvalidParameter, inspectComplete(t, ls, id, dispatch.InspectPend), "Pend is no answer")
	require.Equal(t, irp.Success, inspectComplete(t, ls, id, dispatch.InspectAccept))
	io := a.wait()
	require.Equal(t, irp.Success, io.Status)
	ws := io.Object.(*dispatch.Socket)
	lsEcho(t, ws, c)
	require.Equal(t, irp.InvalidParameter, inspectComplete(t, ls, id, dispatch.InspectAccept), "an ID is completed once")

	// A second one, rejected later: the peer sees a reset.
	c2 := lsDial(t, addr)
	id2 := recvID(t, n.ids)
	require.NotEqual(t, id, id2)
	require.Equal(t, irp.Success, inspectComplete(t, ls, id2, dispatch.InspectReject))
	require.True(t, readAll(t, c2).reset)

	// A third stays pended: closing the listener resets it.
	c3 := lsDial(t, addr)
	recvID(t, n.ids)
	closeSocketSync(t, ws)
	closeSocketSync(t, ls)
	require.True(t, readAll(t, c3).reset)
	finish(t, r)
}

// A pended connection whose peer goes away is reported with WskAbortEvent; completing its
// ID later establishes nothing.
func TestConditionalAbort(t *testing.T) {
	r, npi := newReg(t)
	n := newInspector(t, dispatch.InspectPend)
	ls, addr := newConditional(t, npi, n)
	c := lsDial(t, addr)
	id := recvID(t, n.ids)
	require.NoError(t, c.(*net.TCPConn).SetLinger(0))
	require.NoError(t, c.Close()) // RST
	require.Equal(t, id, recvID(t, n.aborted))
	require.Equal(t, irp.InvalidParameter, inspectComplete(t, ls, id, dispatch.InspectAccept))
	a := startAccept(t, ls, nil, nil)
	require.Equal(t, irp.Pending, a.ret, "nothing was established")
	closeSocketSync(t, ls)
	require.Equal(t, irp.Cancelled, a.wait().Status)
	finish(t, r)
}
