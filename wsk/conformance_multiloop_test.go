//go:build unix || windows

package wsk

import (
	"net"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// The other tests run the provider with one engine loop. With several, a listener and
// the sockets it accepts, or two datagram sockets talking to each other, usually sit on
// different loops (descriptor number modulo loops), so the cross-loop paths run:
// accept delivery, inherited events, conditional accept completed from the test
// goroutine, and closes from completion routines that run on another loop.

// TestConformanceMultiLoop: the listen, accept, event, conditional and datagram paths
// with three engine loops; clean and abortive closes are told apart by the peers.
func TestConformanceMultiLoop(t *testing.T) {
	r, npi := newReg(t, WithLoops(3))

	// Accept IRPs and accept events on one listener. The event inherits the receive
	// event enabled on the listener; the IRP-accepted sockets do not (invariant 38).
	got := make(chan []byte, 16)
	conn := &dispatch.ClientConnectionDispatch{
		ReceiveEvent: func(ctx any, _ dispatch.Flags, list *dispatch.DataIndication, _ int, _ *int) irp.Status {
			if list != nil {
				got <- listBytes(list)
			}
			return irp.Success
		},
	}
	offered := make(chan *dispatch.Socket, 16)
	ls := newListenSock(t, npi, "listener-ctx", &dispatch.ClientListenDispatch{
		AcceptEvent: func(_ any, _ dispatch.Flags, _, _ netip.AddrPort, s *dispatch.Socket) (irp.Status, any, *dispatch.ClientConnectionDispatch) {
			if s == nil {
				return irp.Success, nil, nil
			}
			offered <- s
			return irp.Success, "accepted-ctx", conn
		},
	})
	addr := bindListen(t, ls)

	const perPath = 4
	type pair struct {
		ws *dispatch.Socket
		c  net.Conn
	}
	var byIRP, byEvent []pair
	for range perPath {
		a := startAccept(t, ls, nil, nil)
		c := lsDial(t, addr)
		io := a.wait()
		require.Equal(t, irp.Success, io.Status)
		byIRP = append(byIRP, pair{io.Object.(*dispatch.Socket), c})
	}
	require.Equal(t, irp.Success, lsEnable(t, ls, dispatch.EventAccept|dispatch.EventReceive))
	for range perPath {
		c := lsDial(t, addr)
		byEvent = append(byEvent, pair{within(t, offered), c})
	}
	loops := map[any]bool{sockOf(ls).efd.Loop(): true}
	for _, p := range append(append([]pair{}, byIRP...), byEvent...) {
		loops[sockOf(p.ws).efd.Loop()] = true
	}
	require.Len(t, loops, 3, "the listener and its sockets spread over every loop")
	for _, p := range byIRP {
		require.Zero(t, eventsOfSock(p.ws))
		lsEcho(t, p.ws, p.c)
	}
	for k, p := range byEvent {
		require.Equal(t, dispatch.EventReceive, eventsOfSock(p.ws), "inherited from the listener")
		msg := string(rune('a' + k))
		writePeer(t, p.c, msg)
		require.Equal(t, msg, string(within(t, got)))
	}
	// Half close cleanly, half abortively; the peers tell which.
	for k, p := range append(byIRP, byEvent...) {
		if k%2 == 0 {
			cfCleanClose(t, p.ws, p.c, "fin")
			continue
		}
		closeSocketSync(t, p.ws)
		require.True(t, readAll(t, p.c).reset)
	}
	closeSocketSync(t, ls)

	// Conditional accept: Pend on the listener's loop, complete from this goroutine,
	// deliver to an Accept IRP.
	n := newInspector(t, dispatch.InspectPend)
	cl, caddr := newConditional(t, npi, n)
	for range 3 {
		a := startAccept(t, cl, nil, nil)
		c := lsDial(t, caddr)
		id := recvID(t, n.ids)
		<-n.remotes
		require.Equal(t, irp.Success, inspectComplete(t, cl, id, dispatch.InspectAccept))
		io := a.wait()
		require.Equal(t, irp.Success, io.Status)
		ws := io.Object.(*dispatch.Socket)
		lsEcho(t, ws, c)
		cfCleanClose(t, ws, c, "ok")
	}
	closeSocketSync(t, cl)

	// Close from the completion routine of a receive, for sockets on different loops.
	for range 3 {
		ws, c := connect(t, npi)
		closeIRP, closed := closeIRPReporting(ws)
		b := dispatch.MakeBuf(make([]byte, 4))
		ri := irp.Allocate(ws.StackSize())
		ri.SetCompletionRoutine(func(*irp.Device, *irp.IRP, any) irp.Status {
			assert.Equal(t, irp.Pending, ws.Basic().CloseSocket(ws, closeIRP))
			return irp.MoreProcessingRequired
		}, nil, irp.InvokeAlways)
		require.Equal(t, irp.Pending, ws.Connection().Receive(ws, &b, 0, ri))
		writePeer(t, c, "x")
		require.Equal(t, irp.Success, within(t, closed))
		require.Equal(t, irp.Success, ri.IoStatus.Status)
		require.True(t, readAll(t, c).reset)
		ri.Free()
		closeIRP.Free()
	}

	// Two datagram sockets (likely on two loops) talk both ways.
	d1, a1 := newDgSocket(t, npi, AFInet, nil, nil)
	d2, a2 := newDgSocket(t, npi, AFInet, nil, nil)
	for k := range 4 {
		from, to, toAddr, fromAddr := d1, d2, a2, a1
		if k%2 == 1 {
			from, to, toAddr, fromAddr = d2, d1, a1, a2
		}
		rf := receiveFrom(t, to, 16)
		require.Equal(t, irp.Success, sendTo(t, from, []byte("dg"), &toAddr).Status)
		io := rf.wait()
		require.Equal(t, irp.Success, io.Status)
		require.Equal(t, "dg", string(rf.buf[:io.Information]))
		require.Equal(t, fromAddr, rf.from)
	}
	closeSocketSync(t, d1)
	closeSocketSync(t, d2)

	finish(t, r)
	s := r.Stats()
	require.Zero(t, s.CallbackPanics)
	require.Equal(t, s.SocketsCreated, s.SocketsClosed)
}
