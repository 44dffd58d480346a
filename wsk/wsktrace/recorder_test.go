package wsktrace

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
)

// The close of a socket with three pending receives, as the README tells a reader to look
// at it: under the socket's task, three WskReceive tasks that go pending and end with
// STATUS_CANCELLED inside the region of step 5, then the reset, the descriptor, and the
// WskCloseSocket task ending last, inside the region of step 8; the socket's task ends
// after it.
func TestCloseWithPendingReceives(t *testing.T) {
	ft := &fakeTracer{}
	e := newEnv(t, wsk.WithObserver(newRecorder(ft, nil)))
	s, _ := e.accept()
	require.Equal(t, 2, s.StackSize(), "the observer's layer adds one stack location")

	var recvs []*posted
	for range 3 {
		r := receive(s)
		require.Equal(t, irp.Pending, r.returned)
		recvs = append(recvs, r)
	}
	e.close(s)
	for _, r := range recvs {
		require.Equal(t, irp.Cancelled, r.wait(t).Status)
	}

	root := socketTask(ft.snapshot(), "connection", 1)
	require.NotZero(t, root, "no task for the connection socket")
	got := family(ft.snapshot(), root)
	want := []string{"log socket socket: socket #2, connection"}
	for k := 1; k <= 3; k++ {
		r := "WskReceive#" + string(rune('0'+k))
		want = append(want, "task "+r, "log "+r+" irp: submitted", "log "+r+" irp: pending")
	}
	want = append(want,
		"task WskCloseSocket#1",
		"log WskCloseSocket#1 irp: submitted",
		"log WskCloseSocket#1 irp: pending",
		"log socket close: 1-3: calls drained, new calls refused",
		"log socket close: 4: wait for running callbacks",
		"region socket close 5: cancel every pending IRP")
	for k := 1; k <= 3; k++ {
		r := "WskReceive#" + string(rune('0'+k))
		want = append(want,
			"log "+r+" irp: completion routine: PendingReturned true, Cancel false",
			"log "+r+" irp: completed STATUS_CANCELLED, Information 0",
			"end "+r)
	}
	want = append(want,
		"region-end socket close 5: cancel every pending IRP",
		"log socket close: 6: reset the connection",
		"region socket close 7: close the descriptor",
		"region-end socket close 7: close the descriptor",
		"region socket close 8: complete the close IRP",
		"log WskCloseSocket#1 irp: completion routine: PendingReturned true, Cancel false",
		"log WskCloseSocket#1 irp: completed STATUS_SUCCESS, Information 0",
		"end WskCloseSocket#1",
		"region-end socket close 8: complete the close IRP",
		"log socket socket: closed",
		"end socket")
	require.Equal(t, want, got)
}

// A Cancel of a pending receive shows on its task between pending and the completion, and
// the completion routine sees the IRP's Cancel flag.
func TestCancelShowsOnTheIRP(t *testing.T) {
	ft := &fakeTracer{}
	e := newEnv(t, wsk.WithObserver(newRecorder(ft, nil)))
	s, _ := e.accept()
	r := receive(s)
	require.Equal(t, irp.Pending, r.returned)
	require.True(t, r.i.Cancel())
	require.Equal(t, irp.Cancelled, r.wait(t).Status)
	e.close(s)

	got := family(ft.snapshot(), socketTask(ft.snapshot(), "connection", 1))
	require.Equal(t, lifecycle("WskReceive#1", true, true, "STATUS_CANCELLED, Information 0"),
		onTask(got, "WskReceive#1"))
}

// A call that completes at once (data already there) has no pending, and its task ends
// with the bytes it moved; a graceful close sends no reset and says so (step 6).
func TestInlineCompletionAndNoReset(t *testing.T) {
	ft := &fakeTracer{}
	e := newEnv(t, wsk.WithObserver(newRecorder(ft, nil)))
	client, server := e.connectPair()

	out := []byte("hello")
	send := post(client, func(i *irp.IRP) irp.Status {
		b := bufOf(out)
		return client.Connection().Send(client, &b, 0, i)
	})
	require.Equal(t, irp.Success, send.wait(t).Status)
	r := receive(server)
	io := r.wait(t)
	require.Equal(t, irp.Success, io.Status)
	require.EqualValues(t, 5, io.Information)
	// Both directions shut: the client disconnects, the server reads its FIN and
	// disconnects too, then both close with no reset.
	disconnect(t, client)
	require.Equal(t, irp.Success, receive(server).wait(t).Status)
	disconnect(t, server)
	require.Equal(t, irp.Success, receive(client).wait(t).Status)
	e.close(client)
	e.close(server)

	events := ft.snapshot()
	cl := family(events, socketTask(events, "connection", 1))
	require.Equal(t, lifecycle("WskSend#1", false, false, "STATUS_SUCCESS, Information 5"),
		onTask(cl, "WskSend#1"))
	require.Contains(t, cl, "log socket close: 6: no reset needed")
	require.NotContains(t, cl, "log socket close: 6: reset the connection")
	require.Equal(t, "end socket", cl[len(cl)-1])
}

// With the recorder installed but nothing being recorded (no trace running, no logger),
// it sets no completion routine and records nothing: the layer is all it costs.
func TestOffRecordsNothing(t *testing.T) {
	ft := &fakeTracer{}
	ft.off.Store(true)
	rec := newRecorder(ft, nil)
	e := newEnv(t, wsk.WithObserver(rec))
	s, _ := e.accept()
	r := receive(s)
	require.Equal(t, irp.Pending, r.returned)
	e.close(s)
	require.Equal(t, irp.Cancelled, r.wait(t).Status)
	e.closeListen()
	require.Empty(t, ft.snapshot())
	requireForgotten(t, rec)
}

// Without WithObserver no layer is stacked: a socket IRP needs one location.
func TestNoObserverNoLayer(t *testing.T) {
	e := newEnv(t)
	s, _ := e.accept()
	require.Equal(t, 1, s.StackSize())
	e.close(s)
}

// lifecycle is what the recorder writes on the task of one IRP submission (named as family
// names it): pended says whether the provider kept it pending, cancel whether a Cancel
// reached it, completed is its final status and Information.
func lifecycle(task string, pended, cancel bool, completed string) []string {
	ev := []string{"task " + task, "log " + task + " irp: submitted"}
	if pended {
		ev = append(ev, "log "+task+" irp: pending")
	}
	if cancel {
		ev = append(ev, "log "+task+" irp: cancel")
	}
	return append(ev,
		"log "+task+" irp: completion routine: PendingReturned "+strconv.FormatBool(pended)+
			", Cancel "+strconv.FormatBool(cancel),
		"log "+task+" irp: completed "+completed,
		"end "+task)
}

// onTask keeps the events of one task of a family.
func onTask(events []string, name string) []string {
	var out []string
	for _, ev := range events {
		_, rest, _ := strings.Cut(ev, " ")
		if rest == name || strings.HasPrefix(rest, name+" ") {
			out = append(out, ev)
		}
	}
	return out
}

// requireForgotten checks that the recorder holds no socket and no IRP any more.
func requireForgotten(t *testing.T, r *Recorder) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Empty(t, r.sockets, "sockets still recorded")
	require.Empty(t, r.irps, "IRPs still recorded")
}

// A datagram socket goes through its own layered table: a ReceiveFrom pends, a datagram
// sent to it completes it with its bytes, a second one is cancelled by the close.
func TestDatagramLifecycle(t *testing.T) {
	ft := &fakeTracer{}
	e := newEnv(t, wsk.WithObserver(newRecorder(ft, nil)))
	res := e.call(1, func(i *irp.IRP) irp.Status {
		return e.npi.Dispatch.Socket(e.npi.Client, wsk.AFInet, wsk.SockDgram, wsk.IPProtoUDP, dispatch.DatagramSocket, nil, nil, i)
	})
	require.Equal(t, irp.Success, res.Status)
	s := res.Object.(*dispatch.Socket)
	dt := s.Datagram()
	var local netip.AddrPort
	require.Equal(t, irp.Success, e.call(s.StackSize(), func(i *irp.IRP) irp.Status {
		return dt.Bind(s, netip.MustParseAddrPort("127.0.0.1:0"), 0, i)
	}).Status)
	require.Equal(t, irp.Success, e.call(s.StackSize(), func(i *irp.IRP) irp.Status { return dt.GetLocalAddress(s, &local, i) }).Status)
	receiveFrom := func() *posted {
		buf := dispatch.MakeBuf(make([]byte, 64))
		var from netip.AddrPort
		return post(s, func(i *irp.IRP) irp.Status { return dt.ReceiveFrom(s, &buf, 0, &from, nil, nil, nil, i) })
	}
	first := receiveFrom()
	require.Equal(t, irp.Pending, first.returned)
	c, err := net.Dial("udp", local.String())
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("datagram"))
	require.NoError(t, err)
	io := first.wait(t)
	require.Equal(t, irp.Success, io.Status)
	second := receiveFrom()
	e.close(s)
	require.Equal(t, irp.Cancelled, second.wait(t).Status)

	events := ft.snapshot()
	got := family(events, socketTask(events, "datagram", 1))
	require.Equal(t, lifecycle("WskReceiveFrom#1", true, false, "STATUS_SUCCESS, Information 8"),
		onTask(got, "WskReceiveFrom#1"))
	require.Equal(t, lifecycle("WskReceiveFrom#2", true, false, "STATUS_CANCELLED, Information 0"),
		onTask(got, "WskReceiveFrom#2"))
	require.Contains(t, got, "log socket close: 6: no reset needed")
	require.Equal(t, "end socket", got[len(got)-1])
}
