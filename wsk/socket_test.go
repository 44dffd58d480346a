//go:build linux

package wsk

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

func TestSocketCategories(t *testing.T) {
	r, npi := newReg(t)
	mk := func(family, sotype int, flags dispatch.SocketFlags, ctx, cd any) irp.IoStatusBlock {
		return do(t, 1, func(i *irp.IRP) irp.Status {
			return npi.Dispatch.Socket(npi.Client, family, sotype, 0, flags, ctx, cd, i)
		})
	}
	require.Equal(t, irp.InvalidParameter, mk(AFInet, SockStream, 0x10, nil, nil).Status)
	require.Equal(t, irp.InvalidParameter, mk(AFInet, SockStream, 3, nil, nil).Status)
	require.Equal(t, irp.InvalidParameter, mk(99, SockStream, dispatch.ConnectionSocket, nil, nil).Status)
	require.Equal(t, irp.InvalidParameter, mk(AFInet, SockDgram, dispatch.ConnectionSocket, nil, nil).Status)
	require.Equal(t, irp.InvalidParameter, mk(AFInet, SockStream, dispatch.BasicSocket, "ctx", nil).Status)
	lio := mk(AFInet, SockStream, dispatch.ListenSocket, nil, nil) // listen sockets: listen_test.go
	require.Equal(t, irp.Success, lio.Status)
	closeSocketSync(t, lio.Object.(*dispatch.Socket))
	require.Equal(t, irp.InvalidParameter, npi.Dispatch.Socket(npi.Client, AFInet, SockStream, 0, 0, nil, nil, nil))

	// A basic socket: options only (invariant 8: category 0 → basic table).
	io := mk(AFInet6, SockStream, dispatch.BasicSocket, nil, nil)
	require.Equal(t, irp.Success, io.Status)
	ws := io.Object.(*dispatch.Socket)
	require.Equal(t, dispatch.BasicSocket, ws.Category())
	require.Nil(t, ws.Connection())
	out := make([]byte, 4)
	var n int
	require.Equal(t, irp.Success, ws.Basic().ControlSocket(ws, dispatch.GetOption, SORcvBuf, dispatch.SOLSocket, nil, out, &n, nil))
	require.Equal(t, 4, n)
	require.NotZero(t, binary.LittleEndian.Uint32(out))
	closeSocketSync(t, ws)

	// Connection sockets accept the Linux AF_INET6 too.
	io = mk(10, SockStream, dispatch.ConnectionSocket, nil, nil)
	require.Equal(t, irp.Success, io.Status)
	ws = io.Object.(*dispatch.Socket)
	require.Equal(t, dispatch.ConnectionSocket, ws.Category())
	closeSocketSync(t, ws)
	finish(t, r)
}

func TestAddressesNeedState(t *testing.T) {
	r, npi := newReg(t)
	ws := newConnSocket(t, npi, AFInet)
	var a netip.AddrPort
	c := ws.Connection()
	require.Equal(t, irp.InvalidDeviceState, do(t, 1, func(i *irp.IRP) irp.Status { return c.GetLocalAddress(ws, &a, i) }).Status)
	require.Equal(t, irp.InvalidDeviceState, do(t, 1, func(i *irp.IRP) irp.Status { return c.GetRemoteAddress(ws, &a, i) }).Status)
	// Connect before bind, send and receive before connect.
	require.Equal(t, irp.InvalidDeviceState, do(t, 1, func(i *irp.IRP) irp.Status {
		return c.Connect(ws, netip.MustParseAddrPort("127.0.0.1:9"), 0, i)
	}).Status)
	require.Equal(t, irp.InvalidDeviceState, send(t, ws, []byte("x")).wait().Status)
	require.Equal(t, irp.InvalidDeviceState, recv(t, ws, make([]byte, 1), 0).wait().Status)
	require.Equal(t, irp.Success, do(t, 1, func(i *irp.IRP) irp.Status {
		return c.Bind(ws, netip.MustParseAddrPort("127.0.0.1:0"), 0, i)
	}).Status)
	require.Equal(t, irp.Success, do(t, 1, func(i *irp.IRP) irp.Status { return c.GetLocalAddress(ws, &a, i) }).Status)
	require.Equal(t, "127.0.0.1", a.Addr().String())
	require.NotZero(t, a.Port())
	require.Equal(t, irp.InvalidDeviceState, do(t, 1, func(i *irp.IRP) irp.Status { return c.GetRemoteAddress(ws, &a, i) }).Status)
	// IPv6 address on an IPv4 socket.
	require.Equal(t, irp.InvalidParameter, do(t, 1, func(i *irp.IRP) irp.Status {
		return c.Connect(ws, netip.MustParseAddrPort("[::1]:80"), 0, i)
	}).Status)
	// Reserved members.
	require.Equal(t, irp.NotSupported, do(t, 1, func(i *irp.IRP) irp.Status { return c.SendEx(ws, i) }).Status)
	require.Equal(t, irp.InvalidParameter, c.Release(ws, nil))
	closeSocketSync(t, ws)
	finish(t, r)
}

func TestConnectRefused(t *testing.T) {
	r, npi := newReg(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().(*net.TCPAddr).AddrPort()
	ln.Close()
	ws := newConnSocket(t, npi, AFInet)
	require.Equal(t, irp.Success, do(t, 1, func(i *irp.IRP) irp.Status { return ws.Connection().Bind(ws, netip.AddrPort{}, 0, i) }).Status)
	require.Equal(t, irp.ConnectionRefused, do(t, 1, func(i *irp.IRP) irp.Status { return ws.Connection().Connect(ws, addr, 0, i) }).Status)

	// WskSocketConnect to the same port: refused, and the provider destroys its socket.
	io := do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.SocketConnect(npi.Client, SockStream, IPProtoTCP, netip.AddrPort{}, addr, 0, nil, nil, i)
	})
	require.Equal(t, irp.ConnectionRefused, io.Status)
	require.Nil(t, io.Object)
	closeSocketSync(t, ws)
	finish(t, r)
	require.Zero(t, r.Stats().ResetsSent)
}

func TestSocketConnectAndConnectEx(t *testing.T) {
	r, npi := newReg(t)
	p := newPeer(t)
	io := do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.SocketConnect(npi.Client, SockStream, IPProtoTCP, netip.AddrPort{}, p.addr(), 0, "ctx", nil, i)
	})
	require.Equal(t, irp.Success, io.Status)
	ws := io.Object.(*dispatch.Socket)
	c := p.accept(t)
	require.Equal(t, irp.Success, send(t, ws, []byte("sc")).wait().Status)
	b := make([]byte, 2)
	_, err := c.Read(b)
	require.NoError(t, err)
	closeSocketSync(t, ws)

	// ConnectEx: parameter checks, then data sent right after the connect.
	p2 := newPeer(t)
	ws2 := newConnSocket(t, npi, AFInet)
	cx := ws2.Connection()
	require.Equal(t, irp.Success, do(t, 1, func(i *irp.IRP) irp.Status { return cx.Bind(ws2, netip.AddrPort{}, 0, i) }).Status)
	huge := dispatch.MakeBuf(make([]byte, 65536))
	require.Equal(t, irp.BufferOverflow, do(t, 1, func(i *irp.IRP) irp.Status { return cx.ConnectEx(ws2, p2.addr(), &huge, 0, i) }).Status)
	first := dispatch.MakeBuf([]byte("first"))
	require.Equal(t, irp.InvalidParameter, do(t, 1, func(i *irp.IRP) irp.Status { return cx.ConnectEx(ws2, p2.addr(), &first, 1, i) }).Status)
	require.Equal(t, irp.Success, do(t, 1, func(i *irp.IRP) irp.Status { return cx.ConnectEx(ws2, p2.addr(), &first, 0, i) }).Status)
	c2 := p2.accept(t)
	got := make([]byte, 5)
	_, err = c2.Read(got)
	require.NoError(t, err)
	require.Equal(t, "first", string(got))
	// A second connect on a connected socket is refused.
	require.Equal(t, irp.InvalidDeviceState, do(t, 1, func(i *irp.IRP) irp.Status { return cx.Connect(ws2, p2.addr(), 0, i) }).Status)
	closeSocketSync(t, ws2)
	finish(t, r)
}

func TestControlSocketOptionsAndEvents(t *testing.T) {
	r, npi := newReg(t)
	ws := newConnSocket(t, npi, AFInet)
	b := ws.Basic()
	one := binary.LittleEndian.AppendUint32(nil, 1)
	out := make([]byte, 8)
	var n int
	require.Equal(t, irp.Success, b.ControlSocket(ws, dispatch.SetOption, TCPNoDelay, IPProtoTCP, one, nil, nil, nil))
	require.Equal(t, irp.Success, b.ControlSocket(ws, dispatch.GetOption, TCPNoDelay, IPProtoTCP, nil, out, &n, nil))
	require.EqualValues(t, 1, binary.LittleEndian.Uint32(out))
	require.Equal(t, irp.Success, b.ControlSocket(ws, dispatch.SetOption, SOKeepAlive, dispatch.SOLSocket, one, nil, nil, nil))
	require.Equal(t, irp.BufferOverflow, b.ControlSocket(ws, dispatch.GetOption, SOKeepAlive, dispatch.SOLSocket, nil, out[:2], &n, nil))
	require.Equal(t, 4, n)
	require.Equal(t, irp.NotSupported, b.ControlSocket(ws, dispatch.SetOption, SOLinger, dispatch.SOLSocket, one, nil, nil, nil))
	// With an IRP the status also lands in the IRP.
	io := do(t, 1, func(i *irp.IRP) irp.Status {
		return b.ControlSocket(ws, dispatch.GetOption, SOSndBuf, dispatch.SOLSocket, nil, out, &n, i)
	})
	require.Equal(t, irp.Success, io.Status)
	require.EqualValues(t, 4, io.Information)

	ev := func(mask dispatch.EventMask) []byte {
		return dispatch.EventCallbackControl{NpiID: dispatch.NPIWskInterfaceID, EventMask: mask}.Marshal()
	}
	setEv := func(in []byte, i *irp.IRP) irp.Status {
		return b.ControlSocket(ws, dispatch.SetOption, dispatch.SOWskEventCallback, dispatch.SOLSocket, in, nil, nil, i)
	}
	// Before connect: INVALID_DEVICE_STATE; bad NPI or mask: INVALID_PARAMETER.
	require.Equal(t, irp.InvalidDeviceState, setEv(ev(dispatch.EventReceive), nil))
	require.Equal(t, irp.InvalidParameter, setEv(ev(dispatch.EventAccept), nil))
	require.Equal(t, irp.InvalidParameter, setEv(dispatch.EventCallbackControl{EventMask: dispatch.EventReceive}.Marshal(), nil))
	require.Equal(t, irp.InvalidParameter, do(t, 1, func(i *irp.IRP) irp.Status { return setEv(ev(dispatch.EventReceive), i) }).Status)
	require.Equal(t, irp.InvalidParameter, setEv(ev(dispatch.EventReceive|dispatch.EventDisconnect|dispatch.EventDisable), nil))
	require.Equal(t, irp.InvalidDeviceState, do(t, 1, func(i *irp.IRP) irp.Status {
		return b.ControlSocket(ws, dispatch.Ioctl, dispatch.SIOWskQueryReceiveBacklog, 0, nil, out, &n, i)
	}).Status)
	closeSocketSync(t, ws)

	ws, c := connect(t, npi)
	b = ws.Basic()
	require.Equal(t, irp.Success, setEv(ev(dispatch.EventReceive|dispatch.EventDisconnect), nil))
	require.Equal(t, irp.Success, do(t, 1, func(i *irp.IRP) irp.Status { return setEv(ev(dispatch.EventReceive|dispatch.EventDisable), i) }).Status)
	_, err := c.Write([]byte("abc"))
	require.NoError(t, err)
	require.Equal(t, irp.Success, recv(t, ws, nil, 0).wait().Status) // data is there
	io = do(t, 1, func(i *irp.IRP) irp.Status {
		return b.ControlSocket(ws, dispatch.Ioctl, dispatch.SIOWskQueryReceiveBacklog, 0, nil, out, &n, i)
	})
	require.Equal(t, irp.Success, io.Status)
	require.EqualValues(t, 3, binary.LittleEndian.Uint64(out))
	require.Equal(t, irp.InvalidParameter, b.ControlSocket(ws, dispatch.Ioctl, dispatch.SIOWskQueryIdealSendBacklog, 0, nil, out, &n, nil))
	require.Equal(t, irp.Success, do(t, 1, func(i *irp.IRP) irp.Status {
		return b.ControlSocket(ws, dispatch.Ioctl, dispatch.SIOWskQueryIdealSendBacklog, 0, nil, out, &n, i)
	}).Status)
	require.NotZero(t, binary.LittleEndian.Uint64(out))
	closeSocketSync(t, ws)
	finish(t, r)
}

// Limits: hitting a bound is INSUFFICIENT_RESOURCES with the IRP completed, never a panic.
func TestLimits(t *testing.T) {
	r, npi := newReg(t, WithLimits(Limits{MaxPendingPerSocket: 2, MaxSockets: 2}))
	ws, _ := connect(t, npi)
	p1 := recv(t, ws, make([]byte, 1), 0)
	p2 := recv(t, ws, make([]byte, 1), 0)
	require.Equal(t, irp.InsufficientResources, recv(t, ws, make([]byte, 1), 0).wait().Status)
	s2 := newConnSocket(t, npi, AFInet)
	require.Equal(t, irp.InsufficientResources, do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, AFInet, SockStream, 0, dispatch.ConnectionSocket, nil, nil, i)
	}).Status)
	require.EqualValues(t, 2, r.Stats().LimitRejections)
	closeSocketSync(t, ws)
	require.Equal(t, irp.Cancelled, p1.wait().Status)
	require.Equal(t, irp.Cancelled, p2.wait().Status)
	closeSocketSync(t, s2)
	finish(t, r)
}

// A panicking callback aborts only its socket: the peer sees RST, the panic is counted.
func TestCallbackPanicAbortsSocket(t *testing.T) {
	r, npi := newReg(t)
	ws, c := connect(t, npi)
	other, oc := connect(t, npi)
	p := recv(t, ws, make([]byte, 4), 0)
	s := sockOf(ws)
	require.True(t, s.invokeCallback("test", func() { panic("boom") }))
	require.Equal(t, irp.ConnectionAborted, p.wait().Status)
	require.True(t, readAll(t, c).reset)
	require.EqualValues(t, 1, r.Stats().CallbackPanics)
	// The other socket is untouched.
	require.Equal(t, irp.Success, send(t, other, []byte("ok")).wait().Status)
	b := make([]byte, 2)
	_, err := oc.Read(b)
	require.NoError(t, err)
	closeSocketSync(t, ws)
	// After close no callback starts (step 4).
	require.False(t, s.invokeCallback("late", func() { t.Error("callback after close") }))
	closeSocketSync(t, other)
	finish(t, r)
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

// Invariant 21 under concurrency: calls racing with close either run or are refused with
// INVALID_HANDLE; every IRP completes exactly once, and the close IRP completes last.
func TestCallsRacingClose(t *testing.T) {
	r, npi := newReg(t)
	rounds := 50
	if testing.Short() {
		rounds = 10
	}
	var refused, ran int
	for k := 0; k < rounds; k++ {
		ws, c := connect(t, npi)
		const callers = 4
		results := make(chan *pcall, callers*8)
		posted := make(chan struct{}, callers)
		doneCh := make(chan struct{})
		for g := 0; g < callers; g++ {
			go func() {
				defer func() { doneCh <- struct{}{} }()
				for n := 0; n < 8; n++ {
					results <- recv(t, ws, make([]byte, 4), 0)
					if n == 0 {
						posted <- struct{}{}
					}
				}
			}()
		}
		<-posted // at least one receive is pending: close has something to cancel
		closeSocketSync(t, ws)
		for g := 0; g < callers; g++ {
			<-doneCh
		}
		close(results)
		for p := range results {
			require.True(t, p.completed(), "an IRP completed after the close IRP, or never")
			switch p.wait().Status {
			case irp.InvalidHandle:
				refused++
			case irp.Cancelled:
				ran++
			default:
				t.Fatalf("unexpected status")
			}
		}
		c.Close()
	}
	require.Positive(t, refused, "no call was refused by the guard")
	require.Positive(t, ran, "no pending call was cancelled by close")
	t.Logf("refused %d, cancelled by close %d", refused, ran)
	finish(t, r)
}

func TestCallHelper(t *testing.T) {
	r, npi := newReg(t)
	ws, c := connect(t, npi)
	buf := dispatch.MakeBuf(make([]byte, 4))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	io := Call(ctx, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Connection().Receive(ws, &buf, 0, i) })
	require.Equal(t, irp.Cancelled, io.Status)
	_, _ = c.Write([]byte("data"))
	io = Call(context.Background(), ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Connection().Receive(ws, &buf, 0, i) })
	require.Equal(t, irp.Success, io.Status)
	io = Call(context.Background(), ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Basic().CloseSocket(ws, i) })
	require.Equal(t, irp.Success, io.Status)
	finish(t, r)
}
