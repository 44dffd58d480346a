//go:build unix || windows

package wsk

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// Deregistration is the last rundown (SPEC.md §3.6): with many sockets of every
// category open — unbound, connecting, connected with receives and sends pending,
// listening with accepts pending, datagram with a receive pending, basic, stream —
// Deregister refuses new captures and sockets at once, keeps the open sockets working,
// and blocks until the application has closed every one of them; every IRP completes
// (cancelled by its socket's close, before that close IRP), nothing is left pending or
// open, and no goroutine is left behind (the engine stopped).

// drSocket is one open socket of the test with the IRPs it holds pending.
type drSocket struct {
	ws    *dispatch.Socket
	kind  string
	calls []*crCall
	peer  net.Conn
	close *crCall
}

func TestDeregisterWithManySocketsOpen(t *testing.T) {
	// Registered first, so it runs last: after the servers' cleanups stopped their
	// goroutines.
	leakOpts := []goleak.Option{goleak.IgnoreCurrent()}
	t.Cleanup(func() { goleak.VerifyNone(t, leakOpts...) })

	units := 20 // ten sockets each: 200
	if testing.Short() {
		units = 6
	}
	r, npi := newReg(t)
	clk := &crClock{}
	e := &crEnv{t: t, npi: npi, clk: clk, peer: newCRServer(t, 4096)}
	if haveFixture[fixStuckConnect] {
		e.full = stuckConnectTarget(t, "tcp4")
	}

	var socks []*drSocket
	add := func(kind string, ws *dispatch.Socket, peer net.Conn, calls ...*crCall) *drSocket {
		for _, c := range calls {
			require.Equal(t, irp.Pending, c.ret, "%s: the IRP pends", kind)
		}
		s := &drSocket{ws: ws, kind: kind, calls: calls, peer: peer}
		socks = append(socks, s)
		return s
	}
	newOf := func(fam, sotype, proto int, flags dispatch.SocketFlags) *dispatch.Socket {
		io := do(t, 1, func(i *irp.IRP) irp.Status {
			return npi.Dispatch.Socket(npi.Client, fam, sotype, proto, flags, nil, nil, i)
		})
		require.Equal(t, irp.Success, io.Status)
		return io.Object.(*dispatch.Socket)
	}
	receive := func(ws *dispatch.Socket) *crCall {
		return crStart(clk, ws.StackSize(), func(i *irp.IRP) irp.Status {
			b := dispatch.MakeBuf(make([]byte, 16))
			return ws.Connection().Receive(ws, &b, 0, i)
		})
	}
	var echo *drSocket // a connected socket used while Deregister waits
	for u := 0; u < units; u++ {
		add("unbound connection", newConnSocket(t, npi, AFInet), nil)
		add("bound connection", e.crConnSocket(), nil)
		for k := 0; k < 2; k++ {
			ws, c := e.crConnected()
			s := add("connected, 2 receives pending", ws, c, receive(ws), receive(ws))
			if echo == nil {
				echo = s
			}
		}
		ws, c := e.crConnected()
		add("connected, send and receive pending", ws, c,
			crStart(clk, ws.StackSize(), func(i *irp.IRP) irp.Status {
				b := dispatch.MakeBuf(crBigBuf)
				return ws.Connection().Send(ws, &b, 0, i)
			}), receive(ws))
		if e.full.IsValid() { // no pending connect without the fixture
			cs := e.crConnSocket()
			add("connecting", cs, nil, crStart(clk, cs.StackSize(), func(i *irp.IRP) irp.Status {
				return cs.Connection().Connect(cs, e.full, 0, i)
			}))
		}
		ls := newListenSock(t, npi, nil, nil)
		bindListen(t, ls)
		accept := func() *crCall {
			return crStart(clk, ls.StackSize(), func(i *irp.IRP) irp.Status {
				return ls.Listen().Accept(ls, 0, nil, nil, nil, nil, i)
			})
		}
		add("listening, 2 accepts pending", ls, nil, accept(), accept())
		ds := newOf(AFInet, SockDgram, IPProtoUDP, dispatch.DatagramSocket)
		require.Equal(t, irp.Success, do(t, ds.StackSize(), func(i *irp.IRP) irp.Status {
			return ds.Datagram().Bind(ds, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 0), 0, i)
		}).Status)
		var from netip.AddrPort
		add("datagram, receive pending", ds, nil, crStart(clk, ds.StackSize(), func(i *irp.IRP) irp.Status {
			b := dispatch.MakeBuf(make([]byte, 64))
			return ds.Datagram().ReceiveFrom(ds, &b, 0, &from, nil, nil, nil, i)
		}))
		add("basic", newOf(AFInet, SockStream, 0, dispatch.BasicSocket), nil)
		add("stream", newOf(AFInet, SockStream, IPProtoTCP, dispatch.StreamSocket), nil)
	}
	pending := 0
	for _, s := range socks {
		pending += len(s.calls)
	}
	st := r.Stats()
	require.EqualValues(t, len(socks), st.SocketsOpen)
	require.EqualValues(t, pending, st.IRPsPending)
	pendingAtDeregister := pending

	r.ReleaseProviderNPI()
	done := make(chan struct{})
	go func() { r.Deregister(); close(done) }()
	deadline := time.Now().Add(waitLimit)
	for !r.deregistering.Load() {
		require.True(t, time.Now().Before(deadline), "Deregister never began")
		time.Sleep(time.Millisecond)
	}
	// Deregister has begun and the sockets still hold the rundown: it is blocked.
	_, cst := r.CaptureProviderNPI(dispatch.NoWait)
	require.Equal(t, irp.DeviceNotReady, cst, "captures fail once Deregister began")
	require.Equal(t, irp.DeviceNotReady, do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, AFInet, SockStream, 0, dispatch.ConnectionSocket, nil, nil, i)
	}).Status, "new sockets are refused")
	select {
	case <-done:
		require.FailNow(t, "Deregister returned with sockets open")
	default:
	}
	// Open sockets keep working until their owner closes them.
	_, err := echo.peer.Write([]byte("still served"))
	require.NoError(t, err)
	io := echo.calls[0].wait(t)
	require.Equal(t, irp.Success, io.Status, "a pending receive completes during deregistration")
	if n := int(io.Information); n < len("still served") {
		require.EqualValues(t, len("still served")-n, echo.calls[1].waitInfo(t))
		echo.calls = nil
	} else {
		echo.calls = echo.calls[1:] // the second receive stays pending: cancelled at close
	}
	pending -= 2 - len(echo.calls)
	require.Equal(t, irp.Success, do(t, echo.ws.StackSize(), func(i *irp.IRP) irp.Status {
		b := dispatch.MakeBuf([]byte("reply"))
		return echo.ws.Connection().Send(echo.ws, &b, 0, i)
	}).Status, "sends work during deregistration")
	require.EqualValues(t, len(socks), r.Stats().SocketsOpen)
	select {
	case <-done:
		require.FailNow(t, "Deregister returned with sockets open")
	default:
	}

	// The application closes everything, from another goroutine.
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		for _, s := range socks {
			ws := s.ws
			s.close = crStart(clk, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Basic().CloseSocket(ws, i) })
			assert.Equal(t, irp.Pending, s.close.ret)
		}
	}()
	select {
	case <-done:
	case <-time.After(waitLimit):
		require.FailNow(t, "Deregister did not return after the last close")
	}
	<-closed
	cancelled := 0
	for _, s := range socks {
		cio := s.close.wait(t)
		require.Equal(t, irp.Success, cio.Status)
		for _, c := range s.calls {
			io := c.wait(t)
			require.Equal(t, irp.Cancelled, io.Status, s.kind)
			require.Less(t, c.seq, s.close.seq, "%s: an IRP completed after its close IRP", s.kind)
			cancelled++
		}
		if s.peer != nil {
			s.peer.Close()
		}
	}
	st = r.Stats()
	t.Logf("FIGURE deregister with %d sockets open (%d IRPs pending when it began, %d completed normally meanwhile): blocked until the last close; %d IRPs cancelled; sockets created %d, closed %d",
		len(socks), pendingAtDeregister, pendingAtDeregister-pending, cancelled, st.SocketsCreated, st.SocketsClosed)
	require.Zero(t, st.SocketsOpen)
	require.Zero(t, st.IRPsPending)
	require.Zero(t, st.Captures)
	require.Zero(t, st.EnginePanics)
	require.Equal(t, st.SocketsCreated, st.SocketsClosed)
	_, cst = r.CaptureProviderNPI(dispatch.NoWait)
	require.Equal(t, irp.DeviceNotReady, cst, "captures fail after Deregister")
}

// waitInfo is wait's Information.
func (c *crCall) waitInfo(t *testing.T) uintptr {
	t.Helper()
	io := c.wait(t)
	require.Equal(t, irp.Success, io.Status)
	return io.Information
}

// Invariant 4 (sockets): Deregister waits until every socket is closed.
func TestDeregisterWaitsForOpenSockets(t *testing.T) {
	r, npi := newReg(t)
	ws, _ := connect(t, npi)
	p := recv(t, ws, make([]byte, 4), 0)
	r.ReleaseProviderNPI()
	done := make(chan struct{})
	go func() { r.Deregister(); close(done) }()
	select {
	case <-done:
		require.FailNow(t, "Deregister returned with a socket open")
	case <-time.After(20 * time.Millisecond):
	}
	// New sockets are refused meanwhile.
	require.Equal(t, irp.DeviceNotReady, do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, AFInet, SockStream, 0, dispatch.ConnectionSocket, nil, nil, i)
	}).Status)
	closeSocketSync(t, ws)
	require.Equal(t, irp.Cancelled, p.wait().Status)
	select {
	case <-done:
	case <-time.After(waitLimit):
		require.FailNow(t, "Deregister did not return after the last close")
	}
	require.Zero(t, r.Stats().SocketsOpen)
}
