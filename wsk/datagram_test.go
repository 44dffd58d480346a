//go:build unix || windows

package wsk

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// loopback returns the loopback address of a WSK family.
func loopback(family int) netip.Addr {
	if family == AFInet6 {
		return netip.IPv6Loopback()
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

// newDgSocket creates a datagram socket and, when bind is set, binds it to loopback.
func newDgSocket(t *testing.T, npi ProviderNPI, family int, ctx any, cd *dispatch.ClientDatagramDispatch) (*dispatch.Socket, netip.AddrPort) {
	t.Helper()
	var cdp any
	if cd != nil {
		cdp = cd
	}
	io := do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, family, SockDgram, IPProtoUDP, dispatch.DatagramSocket, ctx, cdp, i)
	})
	require.Equal(t, irp.Success, io.Status)
	ws := io.Object.(*dispatch.Socket)
	require.NotNil(t, ws.Datagram())
	require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Datagram().Bind(ws, netip.AddrPortFrom(loopback(family), 0), 0, i)
	}).Status)
	var local netip.AddrPort
	require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Datagram().GetLocalAddress(ws, &local, i)
	}).Status)
	require.NotZero(t, local.Port())
	return ws, local
}

// udpPeer is a plain UDP socket on loopback (udpConn: package net's on Unix).
func udpPeer(t *testing.T, family int) (*udpConn, netip.AddrPort) {
	t.Helper()
	c, a, err := listenUDP(netip.AddrPortFrom(loopback(family), 0))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, a
}

func peerRead(t *testing.T, c *udpConn) ([]byte, netip.AddrPort) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(waitLimit)))
	b := make([]byte, 2048)
	n, from, err := c.ReadFromUDPAddrPort(b)
	require.NoError(t, err)
	return b[:n], netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
}

func peerWrite(t *testing.T, c *udpConn, to netip.AddrPort, b []byte) {
	t.Helper()
	_, err := c.WriteToUDPAddrPort(b, to)
	require.NoError(t, err)
}

func sendTo(t *testing.T, ws *dispatch.Socket, b []byte, remote *netip.AddrPort) irp.IoStatusBlock {
	t.Helper()
	buf := dispatch.MakeBuf(b)
	return do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Datagram().SendTo(ws, &buf, 0, remote, nil, i) })
}

// rfCall is a ReceiveFrom in flight with its out-parameters.
type rfCall struct {
	*pcall
	buf    []byte
	from   netip.AddrPort
	ctlLen int
	flags  uint32
}

func receiveFrom(t *testing.T, ws *dispatch.Socket, size int) *rfCall {
	t.Helper()
	r := &rfCall{buf: make([]byte, size), ctlLen: -1}
	buf := dispatch.MakeBuf(r.buf)
	r.pcall = start(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Datagram().ReceiveFrom(ws, &buf, 0, &r.from, nil, &r.ctlLen, &r.flags, i)
	})
	return r
}

func setEvents(ws *dispatch.Socket, mask dispatch.EventMask) irp.Status {
	in := dispatch.EventCallbackControl{NpiID: dispatch.NPIWskInterfaceID, EventMask: mask}.Marshal()
	return ws.Basic().ControlSocket(ws, dispatch.SetOption, dispatch.SOWskEventCallback, dispatch.SOLSocket, in, nil, nil, nil)
}

func dgIoctl(ws *dispatch.Socket, code uint32, a netip.AddrPort) irp.Status {
	return ws.Basic().ControlSocket(ws, dispatch.Ioctl, code, 0, SockaddrBytes(a), nil, nil, nil)
}

func TestDatagramSendReceiveBothWays(t *testing.T) {
	r, npi := newReg(t)
	for _, fam := range []int{AFInet, AFInet6} {
		ws, local := newDgSocket(t, npi, fam, nil, nil)
		c, paddr := udpPeer(t, fam)

		io := sendTo(t, ws, []byte("hello peer"), &paddr)
		require.Equal(t, irp.Success, io.Status)
		require.EqualValues(t, 10, io.Information)
		got, from := peerRead(t, c)
		require.Equal(t, "hello peer", string(got))
		require.Equal(t, local, from)

		peerWrite(t, c, local, []byte("hello wsk"))
		rf := receiveFrom(t, ws, 64)
		io = rf.wait()
		require.Equal(t, irp.Success, io.Status)
		require.Equal(t, "hello wsk", string(rf.buf[:io.Information]))
		require.Equal(t, paddr, rf.from)
		require.Zero(t, rf.ctlLen)
		require.Zero(t, rf.flags)
		closeSocketSync(t, ws)
	}
	finish(t, r)
}

func TestDatagramPendingReceiveCompletesOnArrival(t *testing.T) {
	r, npi := newReg(t)
	ws, local := newDgSocket(t, npi, AFInet, nil, nil)
	c, paddr := udpPeer(t, AFInet)
	rf := receiveFrom(t, ws, 64)
	require.Equal(t, irp.Pending, rf.ret)
	require.False(t, rf.completed())
	peerWrite(t, c, local, []byte("late"))
	io := rf.wait()
	require.Equal(t, irp.Success, io.Status)
	require.Equal(t, "late", string(rf.buf[:io.Information]))
	require.Equal(t, paddr, rf.from)
	closeSocketSync(t, ws)
	finish(t, r)
}

func TestDatagramCloseCancelsPendingReceive(t *testing.T) {
	r, npi := newReg(t)
	ws, _ := newDgSocket(t, npi, AFInet6, nil, nil)
	rfs := []*rfCall{receiveFrom(t, ws, 16), receiveFrom(t, ws, 16)}
	closed := start(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Basic().CloseSocket(ws, i) })
	require.Equal(t, irp.Success, closed.wait().Status)
	for _, rf := range rfs {
		require.True(t, rf.completed(), "a pending ReceiveFrom completes before the close IRP")
		require.Equal(t, irp.Cancelled, rf.wait().Status)
	}
	finish(t, r)
}

// evRecorder is a ReceiveFromEvent that hands each list to the test and answers with
// the next scripted status (Success once the script is used up).
type evRecorder struct {
	t      *testing.T
	lists  chan *dispatch.DatagramIndication
	answer chan irp.Status
}

func newEvRecorder(t *testing.T) *evRecorder {
	return &evRecorder{t: t, lists: make(chan *dispatch.DatagramIndication, 16), answer: make(chan irp.Status, 16)}
}

func (e *evRecorder) dispatch() *dispatch.ClientDatagramDispatch {
	return &dispatch.ClientDatagramDispatch{ReceiveFromEvent: func(ctx any, flags dispatch.Flags, list *dispatch.DatagramIndication) irp.Status {
		assert.Equal(e.t, "ctx", ctx)
		assert.NotNil(e.t, list)
		e.lists <- list
		select {
		case st := <-e.answer:
			return st
		default:
			return irp.Success
		}
	}}
}

func (e *evRecorder) next(t *testing.T) *dispatch.DatagramIndication {
	t.Helper()
	select {
	case l := <-e.lists:
		return l
	case <-time.After(waitLimit):
		require.FailNow(t, "no ReceiveFromEvent")
	}
	return nil
}

func TestDatagramEventRetainRelease(t *testing.T) {
	r, npi := newReg(t)
	ev := newEvRecorder(t)
	ws, local := newDgSocket(t, npi, AFInet, "ctx", ev.dispatch())
	c, paddr := udpPeer(t, AFInet)
	require.Equal(t, irp.Success, setEvents(ws, dispatch.EventReceiveFrom))

	ev.answer <- irp.Pending
	peerWrite(t, c, local, []byte("kept"))
	l := ev.next(t)
	var got []byte
	for e := l; e != nil; e = e.Next {
		b := make([]byte, e.Buffer.Length)
		e.Buffer.CopyTo(0, b)
		got = append(got, b...)
		require.Equal(t, paddr, e.RemoteAddress)
	}
	require.Equal(t, "kept", string(got))
	require.Equal(t, irp.Success, ws.Datagram().Release(ws, l))
	require.Equal(t, irp.InvalidParameter, ws.Datagram().Release(ws, l), "released twice")
	require.Equal(t, irp.InvalidParameter, ws.Datagram().Release(ws, &dispatch.DatagramIndication{}))

	// Success: the list is given back at once; releasing it is a misuse.
	peerWrite(t, c, local, []byte("done"))
	l = ev.next(t)
	require.Eventually(t, func() bool { return ws.Datagram().Release(ws, l) == irp.InvalidParameter }, waitLimit, time.Millisecond)
	closeSocketSync(t, ws)
	finish(t, r)
}

// TestDatagramDataNotAcceptedDisables checks invariant 34: DATA_NOT_ACCEPTED disables the
// event until it is enabled again; the refused datagram is not lost.
func TestDatagramDataNotAcceptedDisables(t *testing.T) {
	r, npi := newReg(t)
	ev := newEvRecorder(t)
	ws, local := newDgSocket(t, npi, AFInet, "ctx", ev.dispatch())
	c, _ := udpPeer(t, AFInet)
	require.Equal(t, irp.Success, setEvents(ws, dispatch.EventReceiveFrom))

	ev.answer <- irp.DataNotAccepted
	peerWrite(t, c, local, []byte("one"))
	ev.next(t)
	s := sockOf(ws)
	require.Eventually(t, func() bool { // the callback returned and its answer was applied
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.events&dispatch.EventReceiveFrom == 0 && s.gate.running == 0
	}, waitLimit, time.Millisecond)
	peerWrite(t, c, local, []byte("two"))
	for _, want := range []string{"one", "two"} {
		rf := receiveFrom(t, ws, 16)
		io := rf.wait()
		require.Equal(t, irp.Success, io.Status)
		require.Equal(t, want, string(rf.buf[:io.Information]))
	}
	require.Empty(t, ev.lists, "the event stays disabled after DATA_NOT_ACCEPTED")

	require.Equal(t, irp.Success, setEvents(ws, dispatch.EventReceiveFrom))
	ev.answer <- irp.Pending
	peerWrite(t, c, local, []byte("three"))
	l := ev.next(t)
	require.EqualValues(t, 5, l.Buffer.Length)
	require.Equal(t, irp.Success, ws.Datagram().Release(ws, l))
	closeSocketSync(t, ws)
	finish(t, r)
}

// TestDatagramIRPBeatsEvent checks invariant 31: a queued ReceiveFrom gets the datagram,
// not the enabled event.
func TestDatagramIRPBeatsEvent(t *testing.T) {
	r, npi := newReg(t)
	ev := newEvRecorder(t)
	ws, local := newDgSocket(t, npi, AFInet6, "ctx", ev.dispatch())
	c, _ := udpPeer(t, AFInet6)
	require.Equal(t, irp.Success, setEvents(ws, dispatch.EventReceiveFrom))
	rf := receiveFrom(t, ws, 16)
	peerWrite(t, c, local, []byte("irp"))
	io := rf.wait()
	require.Equal(t, irp.Success, io.Status)
	require.Equal(t, "irp", string(rf.buf[:io.Information]))
	require.Empty(t, ev.lists)
	ev.answer <- irp.Pending
	peerWrite(t, c, local, []byte("event"))
	l := ev.next(t)
	require.EqualValues(t, 5, l.Buffer.Length)
	require.Equal(t, irp.Success, ws.Datagram().Release(ws, l))
	closeSocketSync(t, ws)
	finish(t, r)
}

func TestDatagramRemoteAddressFilterAndSendToAddress(t *testing.T) {
	r, npi := newReg(t)
	ws, local := newDgSocket(t, npi, AFInet, nil, nil)
	a, aaddr := udpPeer(t, AFInet)
	b, baddr := udpPeer(t, AFInet)

	require.Equal(t, irp.Success, dgIoctl(ws, dispatch.SIOWskSetRemoteAddress, aaddr))
	peerWrite(t, b, local, []byte("from b"))
	peerWrite(t, a, local, []byte("from a"))
	rf := receiveFrom(t, ws, 16)
	io := rf.wait()
	require.Equal(t, irp.Success, io.Status)
	require.Equal(t, "from a", string(rf.buf[:io.Information]))
	require.Equal(t, aaddr, rf.from)

	// Remote nil goes to the fixed peer.
	require.Equal(t, irp.Success, sendTo(t, ws, []byte("to a"), nil).Status)
	got, _ := peerRead(t, a)
	require.Equal(t, "to a", string(got))

	// Cleared (input size 0): remote nil is refused again.
	require.Equal(t, irp.Success, ws.Basic().ControlSocket(ws, dispatch.Ioctl, dispatch.SIOWskSetRemoteAddress, 0, nil, nil, nil, nil))
	require.Equal(t, irp.InvalidParameter, sendTo(t, ws, []byte("x"), nil).Status)

	// The send-to address is only a default destination.
	require.Equal(t, irp.Success, dgIoctl(ws, dispatch.SIOWskSetSendToAddress, baddr))
	require.Equal(t, irp.Success, sendTo(t, ws, []byte("to b"), nil).Status)
	got, _ = peerRead(t, b)
	require.Equal(t, "to b", string(got))
	require.Equal(t, irp.InvalidParameter, ws.Basic().ControlSocket(ws, dispatch.Ioctl, dispatch.SIOWskSetSendToAddress, 0, []byte{1, 2}, nil, nil, nil))
	closeSocketSync(t, ws)
	finish(t, r)
}

func TestDatagramSendMessages(t *testing.T) {
	r, npi := newReg(t)
	ws, _ := newDgSocket(t, npi, AFInet, nil, nil)
	c, paddr := udpPeer(t, AFInet)
	l3 := &dispatch.BufList{Buffer: dispatch.MakeBufChain([]byte("th"), []byte("ree"))}
	l2 := &dispatch.BufList{Buffer: dispatch.MakeBuf([]byte("two")), Next: l3}
	l1 := &dispatch.BufList{Buffer: dispatch.MakeBuf([]byte("one")), Next: l2}
	io := do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Datagram().SendMessages(ws, l1, 0, &paddr, nil, i) })
	require.Equal(t, irp.Success, io.Status)
	require.EqualValues(t, 11, io.Information)
	for _, want := range []string{"one", "two", "three"} {
		got, _ := peerRead(t, c)
		require.Equal(t, want, string(got))
	}
	require.Equal(t, irp.InvalidParameter, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Datagram().SendMessages(ws, nil, 0, &paddr, nil, i)
	}).Status)
	closeSocketSync(t, ws)
	finish(t, r)
}

func TestDatagramTruncation(t *testing.T) {
	r, npi := newReg(t)
	ws, local := newDgSocket(t, npi, AFInet, nil, nil)
	c, _ := udpPeer(t, AFInet)
	peerWrite(t, c, local, make([]byte, 100))
	rf := receiveFrom(t, ws, 10)
	io := rf.wait()
	require.Equal(t, irp.Success, io.Status)
	require.EqualValues(t, 10, io.Information)
	require.Equal(t, MsgTrunc, rf.flags&MsgTrunc)
	closeSocketSync(t, ws)
	finish(t, r)
}

func TestDatagramBadArguments(t *testing.T) {
	r, npi := newReg(t)
	// Wrong type or protocol for the category; wrong client table type.
	for _, args := range [][2]int{{SockStream, 0}, {SockDgram, IPProtoTCP}} {
		require.Equal(t, irp.InvalidParameter, do(t, 1, func(i *irp.IRP) irp.Status {
			return npi.Dispatch.Socket(npi.Client, AFInet, args[0], args[1], dispatch.DatagramSocket, nil, nil, i)
		}).Status)
	}
	require.Equal(t, irp.InvalidParameter, do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, AFInet, SockDgram, 0, dispatch.DatagramSocket, nil, &dispatch.ClientConnectionDispatch{}, i)
	}).Status)

	io := do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, AFInet, SockDgram, 0, dispatch.DatagramSocket, nil, nil, i)
	})
	require.Equal(t, irp.Success, io.Status)
	ws := io.Object.(*dispatch.Socket)
	d := ws.Datagram()
	dst := netip.MustParseAddrPort("127.0.0.1:9")
	var a netip.AddrPort
	// Before bind.
	require.Equal(t, irp.InvalidDeviceState, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return d.GetLocalAddress(ws, &a, i) }).Status)
	require.Equal(t, irp.InvalidDeviceState, sendTo(t, ws, []byte("x"), &dst).Status)
	require.Equal(t, irp.InvalidDeviceState, receiveFrom(t, ws, 4).wait().Status)
	require.Equal(t, irp.InvalidDeviceState, dgIoctl(ws, dispatch.SIOWskSetRemoteAddress, dst))
	require.Equal(t, irp.InvalidParameter, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return d.Bind(ws, netip.AddrPort{}, 1, i) }).Status)
	// Wildcard bind, then a second bind.
	require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return d.Bind(ws, netip.AddrPort{}, 0, i) }).Status)
	require.Equal(t, irp.InvalidDeviceState, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return d.Bind(ws, netip.AddrPort{}, 0, i) }).Status)
	require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return d.GetLocalAddress(ws, &a, i) }).Status)
	require.NotZero(t, a.Port())
	// No destination, flags, control data, bad buffers.
	require.Equal(t, irp.InvalidParameter, sendTo(t, ws, []byte("x"), nil).Status)
	buf := dispatch.MakeBuf([]byte("x"))
	require.Equal(t, irp.InvalidParameter, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return d.SendTo(ws, &buf, 1, &dst, nil, i) }).Status)
	require.Equal(t, irp.NotSupported, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return d.SendTo(ws, &buf, 0, &dst, []byte{1}, i) }).Status)
	require.Equal(t, irp.InvalidParameter, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return d.SendTo(ws, nil, 0, &dst, nil, i) }).Status)
	bad := dispatch.Buf{Length: 3}
	require.Equal(t, irp.InvalidParameter, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return d.ReceiveFrom(ws, &bad, 0, nil, nil, nil, nil, i)
	}).Status)
	v6 := netip.MustParseAddrPort("[::1]:9")
	require.Equal(t, irp.InvalidParameter, sendTo(t, ws, []byte("x"), &v6).Status)
	require.Equal(t, irp.InvalidParameter, d.Release(ws, nil))
	require.Equal(t, irp.InvalidParameter, setEvents(ws, dispatch.EventReceive))
	closeSocketSync(t, ws)
	finish(t, r)
}

func TestSockaddrBytesRoundTrip(t *testing.T) {
	for _, s := range []string{"127.0.0.1:80", "[::1]:443", "[fe80::1]:1"} {
		a := netip.MustParseAddrPort(s)
		got, ok := ParseSockaddr(SockaddrBytes(a))
		require.True(t, ok)
		require.Equal(t, a, got)
	}
	require.Nil(t, SockaddrBytes(netip.AddrPort{}))
	_, ok := ParseSockaddr([]byte{9, 0, 0, 0, 0, 0, 0, 0})
	require.False(t, ok)
}
