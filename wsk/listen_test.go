//go:build unix || windows

package wsk

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

var lsLoopback = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 0)

// newListenSocket creates a listen socket with the given context and client table (nil
// for none), without binding it.
func newListenSock(t *testing.T, npi ProviderNPI, ctx any, cd *dispatch.ClientListenDispatch) *dispatch.Socket {
	t.Helper()
	var cdv any
	if cd != nil {
		cdv = cd
	}
	io := do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, AFInet, SockStream, IPProtoTCP, dispatch.ListenSocket, ctx, cdv, i)
	})
	require.Equal(t, irp.Success, io.Status)
	return io.Object.(*dispatch.Socket)
}

// bindListen binds a listen socket to 127.0.0.1:0 and returns its address.
func bindListen(t *testing.T, ws *dispatch.Socket) netip.AddrPort {
	t.Helper()
	l := ws.Listen()
	require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return l.Bind(ws, lsLoopback, 0, i) }).Status)
	var a netip.AddrPort
	require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return l.GetLocalAddress(ws, &a, i) }).Status)
	require.NotZero(t, a.Port())
	return a
}

// acceptCall starts a WskAccept on a listen socket.
type acceptCall struct {
	*pcall
	local, remote netip.AddrPort
}

func startAccept(t *testing.T, ws *dispatch.Socket, ctx any, cd *dispatch.ClientConnectionDispatch) *acceptCall {
	t.Helper()
	a := &acceptCall{}
	a.pcall = start(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		if l := ws.Listen(); l != nil {
			return l.Accept(ws, 0, ctx, cd, &a.local, &a.remote, i)
		}
		return ws.Stream().Accept(ws, 0, ctx, cd, &a.local, &a.remote, i)
	})
	return a
}

// waitQueued waits until the kernel queue of listener ws holds a connection, so that an
// Accept then completes synchronously.
func waitQueued(t *testing.T, ws *dispatch.Socket) {
	t.Helper()
	waitReadable(t, sockOf(ws).fd)
}

func lsDial(t *testing.T, a netip.AddrPort) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", a.String(), waitLimit)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// dialSeesReset connects to addr and reports whether the connection was reset: the
// reset can come so fast that connect(2) itself reports it.
func dialSeesReset(t *testing.T, addr netip.AddrPort) bool {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr.String(), waitLimit)
	if err != nil {
		return isReset(err)
	}
	defer c.Close()
	return readAll(t, c).reset
}

// lsEcho checks that the accepted socket ws and the net peer c are connected: a byte
// each way.
func lsEcho(t *testing.T, ws *dispatch.Socket, c net.Conn) {
	t.Helper()
	require.Equal(t, irp.Success, send(t, ws, []byte("x")).wait().Status)
	b := make([]byte, 1)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(waitLimit)))
	_, err := c.Read(b)
	require.NoError(t, err)
	_, err = c.Write([]byte("y"))
	require.NoError(t, err)
	io := recv(t, ws, b, 0).wait()
	require.Equal(t, irp.Success, io.Status)
	require.Equal(t, "y", string(b))
}

func TestListenAcceptSync(t *testing.T) {
	r, npi := newReg(t)
	ls := newListenSock(t, npi, nil, nil)
	addr := bindListen(t, ls)
	c := lsDial(t, addr)
	waitQueued(t, ls)
	a := startAccept(t, ls, "ctx", nil)
	require.Equal(t, irp.Success, a.ret, "a queued connection is accepted at once")
	io := a.wait()
	require.Equal(t, irp.Success, io.Status)
	ws := io.Object.(*dispatch.Socket)
	require.NotNil(t, ws.Connection(), "an accepted socket is a connection socket")
	require.Equal(t, addr, a.local)
	require.Equal(t, c.LocalAddr().(*net.TCPAddr).AddrPort(), a.remote)
	require.Equal(t, "ctx", ctxOfSock(ws))
	var ra netip.AddrPort
	require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Connection().GetRemoteAddress(ws, &ra, i)
	}).Status)
	require.Equal(t, a.remote, ra)
	lsEcho(t, ws, c)
	closeSocketSync(t, ws)
	closeSocketSync(t, ls)
	finish(t, r)
}

func TestListenAcceptPending(t *testing.T) {
	r, npi := newReg(t)
	ls := newListenSock(t, npi, nil, nil)
	addr := bindListen(t, ls)
	a := startAccept(t, ls, nil, nil)
	require.Equal(t, irp.Pending, a.ret)
	c := lsDial(t, addr)
	io := a.wait()
	require.Equal(t, irp.Success, io.Status)
	ws := io.Object.(*dispatch.Socket)
	require.Equal(t, c.LocalAddr().(*net.TCPAddr).AddrPort(), a.remote)
	lsEcho(t, ws, c)
	closeSocketSync(t, ws)
	closeSocketSync(t, ls)
	finish(t, r)
}

func TestListenPreconditions(t *testing.T) {
	r, npi := newReg(t)
	ls := newListenSock(t, npi, nil, nil)
	l := ls.Listen()
	require.NotNil(t, l)
	a := startAccept(t, ls, nil, nil)
	require.Equal(t, irp.InvalidDeviceState, a.ret, "accept before bind")
	a.wait()
	var addr netip.AddrPort
	require.Equal(t, irp.InvalidDeviceState, do(t, ls.StackSize(), func(i *irp.IRP) irp.Status {
		return l.GetLocalAddress(ls, &addr, i)
	}).Status)
	require.Equal(t, irp.InvalidDeviceState, lsEnable(t, ls, dispatch.EventAccept), "events need bind first")
	require.Equal(t, irp.InvalidParameter, do(t, ls.StackSize(), func(i *irp.IRP) irp.Status {
		return l.Bind(ls, lsLoopback, 1, i)
	}).Status)
	bindListen(t, ls)
	require.Equal(t, irp.InvalidDeviceState, do(t, ls.StackSize(), func(i *irp.IRP) irp.Status {
		return l.Bind(ls, lsLoopback, 0, i)
	}).Status, "bind twice")
	require.Equal(t, irp.InvalidParameter, do(t, ls.StackSize(), func(i *irp.IRP) irp.Status {
		return l.Accept(ls, 1, nil, nil, nil, nil, i)
	}).Status, "accept flags")
	require.Equal(t, irp.InvalidDeviceState, do(t, ls.StackSize(), func(i *irp.IRP) irp.Status {
		id := dispatch.InspectID{}
		return l.InspectComplete(ls, &id, dispatch.InspectAccept, i)
	}).Status, "InspectComplete without conditional accept")
	require.Equal(t, irp.InvalidParameter, do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, AFInet, SockDgram, 0, dispatch.ListenSocket, nil, nil, i)
	}).Status, "a listen socket is TCP")
	closeSocketSync(t, ls)
	finish(t, r)
}

// lsEnable enables events on ws (no IRP) and returns the status.
func lsEnable(t *testing.T, ws *dispatch.Socket, mask dispatch.EventMask) irp.Status {
	t.Helper()
	in := dispatch.EventCallbackControl{NpiID: dispatch.NPIWskInterfaceID, EventMask: mask}.Marshal()
	return ws.Basic().ControlSocket(ws, dispatch.SetOption, dispatch.SOWskEventCallback, dispatch.SOLSocket, in, nil, nil, nil)
}

// Closing a listener cancels its pending accepts (STATUS_CANCELLED).
func TestListenCloseCancelsPendingAccepts(t *testing.T) {
	r, npi := newReg(t)
	ls := newListenSock(t, npi, nil, nil)
	bindListen(t, ls)
	a1 := startAccept(t, ls, nil, nil)
	a2 := startAccept(t, ls, nil, nil)
	require.Equal(t, irp.Pending, a1.ret)
	require.Equal(t, irp.Pending, a2.ret)
	closeSocketSync(t, ls)
	for _, a := range []*acceptCall{a1, a2} {
		io := a.wait()
		require.Equal(t, irp.Cancelled, io.Status)
		require.Nil(t, io.Object)
	}
	finish(t, r)
}

// TestListenCloseResetsQueued is TESTING.md case 23 (ListenerCloseCancelsAccepts): connections
// queued but never accepted see ECONNRESET when the listener closes.
func TestListenCloseResetsQueued(t *testing.T) {
	r, npi := newReg(t)
	ls := newListenSock(t, npi, nil, nil)
	addr := bindListen(t, ls)
	clients := []net.Conn{lsDial(t, addr), lsDial(t, addr)}
	waitQueued(t, ls)
	closeSocketSync(t, ls)
	for _, c := range clients {
		res := readAll(t, c)
		require.True(t, res.reset, "a queued client sees a reset")
	}
	finish(t, r)
}

// Cancelling a pending accept completes it with STATUS_CANCELLED; the listener goes on.
func TestListenAcceptCancel(t *testing.T) {
	r, npi := newReg(t)
	ls := newListenSock(t, npi, nil, nil)
	addr := bindListen(t, ls)
	a := startAccept(t, ls, nil, nil)
	require.Equal(t, irp.Pending, a.ret)
	a.i.Cancel()
	require.Equal(t, irp.Cancelled, a.wait().Status)
	b := startAccept(t, ls, nil, nil)
	c := lsDial(t, addr)
	io := b.wait()
	require.Equal(t, irp.Success, io.Status)
	ws := io.Object.(*dispatch.Socket)
	lsEcho(t, ws, c)
	closeSocketSync(t, ws)
	closeSocketSync(t, ls)
	finish(t, r)
}
