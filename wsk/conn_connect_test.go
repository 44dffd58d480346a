//go:build unix || windows

package wsk

import (
	"net"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

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
