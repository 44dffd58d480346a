//go:build unix || windows

package wsk

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

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
