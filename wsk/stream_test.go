//go:build unix || windows

package wsk

import (
	"io"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

func newStreamSock(t *testing.T, npi ProviderNPI, cd *dispatch.ClientStreamDispatch) *dispatch.Socket {
	t.Helper()
	var cdv any
	if cd != nil {
		cdv = cd
	}
	io := do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, AFInet, SockStream, IPProtoTCP, dispatch.StreamSocket, nil, cdv, i)
	})
	require.Equal(t, irp.Success, io.Status)
	ws := io.Object.(*dispatch.Socket)
	require.Equal(t, dispatch.StreamSocket, ws.Category())
	return ws
}

func streamCall(t *testing.T, ws *dispatch.Socket, fn func(*dispatch.StreamDispatch, *irp.IRP) irp.Status) irp.Status {
	t.Helper()
	return do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return fn(ws.Stream(), i) }).Status
}

// A stream socket committed to listening refuses the connection role.
func TestStreamListenCommits(t *testing.T) {
	r, npi := newReg(t)
	ss := newStreamSock(t, npi, nil)
	require.Equal(t, irp.InvalidDeviceState, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.Listen(ss, i)
	}), "Listen before Bind")
	require.Equal(t, irp.Success, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.Bind(ss, lsLoopback, 0, i)
	}))
	require.Equal(t, irp.InvalidDeviceState, startAccept(t, ss, nil, nil).wait().Status, "Accept before Listen")
	require.Equal(t, irp.Success, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.Listen(ss, i)
	}))
	var addr netip.AddrPort
	require.Equal(t, irp.Success, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.GetLocalAddress(ss, &addr, i)
	}))
	require.Equal(t, irp.InvalidDeviceState, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.Listen(ss, i)
	}), "Listen twice")
	require.Equal(t, irp.InvalidDeviceState, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.Connect(ss, addr, 0, i)
	}), "Connect after Listen")
	require.Equal(t, irp.InvalidDeviceState, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.ConnectEx(ss, addr, nil, 0, i)
	}), "ConnectEx after Listen")
	b := dispatch.MakeBuf([]byte("x"))
	require.Equal(t, irp.InvalidDeviceState, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.Send(ss, &b, 0, i)
	}), "Send on a listener")

	a := startAccept(t, ss, nil, nil)
	c := lsDial(t, addr)
	res := a.wait()
	require.Equal(t, irp.Success, res.Status)
	ws := res.Object.(*dispatch.Socket)
	require.Equal(t, dispatch.ConnectionSocket, ws.Category())
	require.Zero(t, eventsOfSock(ws), "invariant 8")
	lsEcho(t, ws, c)
	closeSocketSync(t, ws)
	closeSocketSync(t, ss)
	finish(t, r)
}

// A stream socket committed to a connection refuses the listening role.
func TestStreamConnectCommits(t *testing.T) {
	r, npi := newReg(t)
	p := newPeer(t)
	ss := newStreamSock(t, npi, &dispatch.ClientStreamDispatch{})
	require.Equal(t, irp.Success, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.Bind(ss, netip.AddrPort{}, 0, i)
	}))
	require.Equal(t, irp.Success, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.Connect(ss, p.addr(), 0, i)
	}))
	c := p.accept(t)
	require.Equal(t, irp.InvalidDeviceState, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.Listen(ss, i)
	}), "Listen after Connect")
	require.Equal(t, irp.InvalidDeviceState, startAccept(t, ss, nil, nil).wait().Status, "Accept after Connect")
	var ra netip.AddrPort
	require.Equal(t, irp.Success, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.GetRemoteAddress(ss, &ra, i)
	}))
	require.Equal(t, p.addr(), ra)
	out := dispatch.MakeBuf([]byte("x"))
	require.Equal(t, irp.Success, streamCall(t, ss, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
		return d.Send(ss, &out, 0, i)
	}))
	got := make([]byte, 1)
	_, err := io.ReadFull(c, got)
	require.NoError(t, err)
	require.Equal(t, "x", string(got))
	closeSocketSync(t, ss)
	finish(t, r)
}

func TestStreamCreateChecks(t *testing.T) {
	r, npi := newReg(t)
	require.Equal(t, irp.InvalidParameter, do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, AFInet, SockStream, 0, dispatch.StreamSocket, nil, &dispatch.ClientListenDispatch{}, i)
	}).Status, "a stream socket takes a ClientStreamDispatch")
	require.Equal(t, irp.InvalidParameter, do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, AFInet, SockDgram, 0, dispatch.StreamSocket, nil, nil, i)
	}).Status)
	finish(t, r)
}
