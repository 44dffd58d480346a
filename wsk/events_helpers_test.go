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

// evConnect makes a connected connection socket with the callbacks cd and context ctx,
// and returns it with the peer's side.
func evConnect(t *testing.T, npi ProviderNPI, ctx any, cd *dispatch.ClientConnectionDispatch) (*dispatch.Socket, net.Conn) {
	t.Helper()
	p := newPeer(t)
	io := do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, AFInet, SockStream, IPProtoTCP, dispatch.ConnectionSocket, ctx, cd, i)
	})
	require.Equal(t, irp.Success, io.Status)
	ws := io.Object.(*dispatch.Socket)
	require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Connection().Bind(ws, netip.AddrPort{}, 0, i)
	}).Status)
	require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Connection().Connect(ws, p.addr(), 0, i)
	}).Status)
	return ws, p.accept(t)
}

// setEvents is SO_WSK_EVENT_CALLBACK with mask (and WSK_EVENT_DISABLE when disabling).
func evSet(ws *dispatch.Socket, mask dispatch.EventMask, i *irp.IRP) irp.Status {
	in := dispatch.EventCallbackControl{NpiID: dispatch.NPIWskInterfaceID, EventMask: mask}.Marshal()
	return ws.Basic().ControlSocket(ws, dispatch.SetOption, dispatch.SOWskEventCallback, dispatch.SOLSocket, in, nil, nil, i)
}

// collectEvents is a connection table whose receive event takes every indication and
// sends a copy of its bytes on the returned channel (buffered for 16).
func collectEvents() (*dispatch.ClientConnectionDispatch, chan []byte) {
	got := make(chan []byte, 16)
	return &dispatch.ClientConnectionDispatch{
		ReceiveEvent: func(_ any, _ dispatch.Flags, list *dispatch.DataIndication, _ int, _ *int) irp.Status {
			got <- listBytes(list)
			return irp.Success
		},
	}, got
}

// listBytes copies the bytes of an indication list.
func listBytes(list *dispatch.DataIndication) []byte {
	var b []byte
	for e := list; e != nil; e = e.Next {
		for p := range e.Buffer.Segments {
			b = append(b, p...)
		}
	}
	return b
}

// recvData receives into a buffer of size n and returns the bytes.
func recvData(t *testing.T, ws *dispatch.Socket, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	io := recv(t, ws, b, 0).wait()
	require.Equal(t, irp.Success, io.Status)
	return b[:io.Information]
}

// writePeer writes b on the peer's side.
func writePeer(t *testing.T, c net.Conn, b string) {
	t.Helper()
	_, err := c.Write([]byte(b))
	require.NoError(t, err)
}

// within waits for a value on ch (bounded by waitLimit).
func within[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		failStuck(t, "timed out waiting for an event")
	}
	var zero T
	return zero
}
