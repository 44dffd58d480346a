package wsktrace

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
)

// waitLimit bounds every wait: a hang fails instead of stalling the run.
const waitLimit = 10 * time.Second

// env is one registration with a listen socket on 127.0.0.1.
type env struct {
	t    testing.TB
	reg  *wsk.Registration
	npi  wsk.ProviderNPI
	ls   *dispatch.Socket
	addr netip.AddrPort
}

// newEnv registers with opts and opens a listen socket; the test's cleanup closes it and
// deregisters (every socket the test made must be closed by then).
func newEnv(t testing.TB, opts ...wsk.Option) *env {
	t.Helper()
	reg, st := wsk.Register(&wsk.ClientNPI{Dispatch: &dispatch.ClientDispatch{Version: dispatch.MakeVersion(1, 0)}}, opts...)
	require.Equal(t, irp.Success, st)
	npi, st := reg.CaptureProviderNPI(dispatch.InfiniteWait)
	require.Equal(t, irp.Success, st)
	e := &env{t: t, reg: reg, npi: npi}
	t.Cleanup(func() {
		if e.ls != nil {
			e.close(e.ls)
		}
		reg.ReleaseProviderNPI()
		reg.Deregister()
	})
	res := e.call(1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, wsk.AFInet, wsk.SockStream, wsk.IPProtoTCP, dispatch.ListenSocket, nil, nil, i)
	})
	require.Equal(t, irp.Success, res.Status)
	e.ls = res.Object.(*dispatch.Socket)
	lt := e.ls.Listen()
	res = e.call(e.ls.StackSize(), func(i *irp.IRP) irp.Status {
		return lt.Bind(e.ls, netip.MustParseAddrPort("127.0.0.1:0"), 0, i)
	})
	require.Equal(t, irp.Success, res.Status)
	res = e.call(e.ls.StackSize(), func(i *irp.IRP) irp.Status { return lt.GetLocalAddress(e.ls, &e.addr, i) })
	require.Equal(t, irp.Success, res.Status)
	return e
}

// call is a synchronous call bounded by waitLimit.
func (e *env) call(stack int, fn func(*irp.IRP) irp.Status) irp.IoStatusBlock {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	return wsk.Call(ctx, stack, fn)
}

// accept takes one connection through an Accept IRP while a net.Conn peer dials.
func (e *env) accept() (*dispatch.Socket, net.Conn) {
	e.t.Helper()
	dialed := make(chan net.Conn, 1)
	go func() {
		c, err := net.DialTimeout("tcp", e.addr.String(), waitLimit)
		assert.NoError(e.t, err)
		dialed <- c
	}()
	lt := e.ls.Listen()
	res := e.call(e.ls.StackSize(), func(i *irp.IRP) irp.Status { return lt.Accept(e.ls, 0, nil, nil, nil, nil, i) })
	peer := <-dialed
	require.Equal(e.t, irp.Success, res.Status)
	require.NotNil(e.t, peer)
	e.t.Cleanup(func() { peer.Close() })
	return res.Object.(*dispatch.Socket), peer
}

// connectPair makes a connection whose both ends are gowsk sockets: the client through
// WskSocketConnect, the server through an Accept IRP.
func (e *env) connectPair() (client, server *dispatch.Socket) {
	e.t.Helper()
	lt := e.ls.Listen()
	acc := post(e.ls, func(i *irp.IRP) irp.Status { return lt.Accept(e.ls, 0, nil, nil, nil, nil, i) })
	res := e.call(1, func(i *irp.IRP) irp.Status {
		return e.npi.Dispatch.SocketConnect(e.npi.Client, wsk.SockStream, wsk.IPProtoTCP,
			netip.AddrPort{}, e.addr, 0, nil, nil, i)
	})
	require.Equal(e.t, irp.Success, res.Status)
	io := acc.wait(e.t)
	require.Equal(e.t, irp.Success, io.Status)
	return res.Object.(*dispatch.Socket), io.Object.(*dispatch.Socket)
}

// close is a synchronous WskCloseSocket; it requires STATUS_SUCCESS.
func (e *env) close(s *dispatch.Socket) {
	res := e.call(s.StackSize(), func(i *irp.IRP) irp.Status { return s.Basic().CloseSocket(s, i) })
	require.Equal(e.t, irp.Success, res.Status)
}

// closeListen closes the listen socket before the cleanup does.
func (e *env) closeListen() {
	e.close(e.ls)
	e.ls = nil
}

// posted is one asynchronous call with an IRP of its own.
type posted struct {
	i        *irp.IRP
	returned irp.Status
	done     chan irp.IoStatusBlock
}

// post makes an asynchronous call on s; wait collects its completion.
func post(s *dispatch.Socket, call func(*irp.IRP) irp.Status) *posted {
	p := &posted{i: irp.Allocate(s.StackSize()), done: make(chan irp.IoStatusBlock, 1)}
	p.i.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		p.done <- i.IoStatus
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	p.returned = call(p.i)
	return p
}

// wait returns the call's final IoStatus (failing after waitLimit) and frees its IRP.
func (p *posted) wait(t testing.TB) irp.IoStatusBlock {
	t.Helper()
	select {
	case io := <-p.done:
		p.i.Free()
		return io
	case <-time.After(waitLimit):
		require.FailNow(t, "IRP not completed in time")
		return irp.IoStatusBlock{}
	}
}

// receive posts one WskReceive of up to 64 bytes on s.
func receive(s *dispatch.Socket) *posted {
	buf := dispatch.MakeBuf(make([]byte, 64))
	return post(s, func(i *irp.IRP) irp.Status { return s.Connection().Receive(s, &buf, 0, i) })
}

func bufOf(b []byte) dispatch.Buf { return dispatch.MakeBuf(b) }

// disconnect is a graceful WskDisconnect (FIN) with no final buffer; it requires success.
func disconnect(t testing.TB, s *dispatch.Socket) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	res := wsk.Call(ctx, s.StackSize(), func(i *irp.IRP) irp.Status { return s.Connection().Disconnect(s, nil, 0, i) })
	require.Equal(t, irp.Success, res.Status)
}
