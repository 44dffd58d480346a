//go:build unix || windows

package wsk

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// evDisable is SO_WSK_EVENT_CALLBACK with WSK_EVENT_DISABLE and an optional IRP.
func evDisable(ws *dispatch.Socket, ev dispatch.EventMask, i *irp.IRP) irp.Status {
	return evSet(ws, ev|dispatch.EventDisable, i)
}

// blockingDgEvent is a ReceiveFromEvent that reports each call (nil list included) and
// then waits for proceed; it answers with Success.
func blockingDgEvent(lists chan<- *dispatch.DatagramIndication, proceed <-chan struct{}) *dispatch.ClientDatagramDispatch {
	return &dispatch.ClientDatagramDispatch{ReceiveFromEvent: func(_ any, _ dispatch.Flags, list *dispatch.DatagramIndication) irp.Status {
		lists <- list
		<-proceed
		return irp.Success
	}}
}

// TestDatagramDisableWhileRunning checks invariant 35 for ReceiveFromEvent: disabling it
// while a call runs answers STATUS_EVENT_PENDING (no IRP) or STATUS_PENDING (the IRP
// completes once the call returned); no new call starts after the disable; with nothing
// running the disable succeeds at once.
func TestDatagramDisableWhileRunning(t *testing.T) {
	r, npi := newReg(t)
	lists := make(chan *dispatch.DatagramIndication, 8)
	proceed := make(chan struct{})
	ws, local := newDgSocket(t, npi, AFInet, nil, blockingDgEvent(lists, proceed))
	c, _ := udpPeer(t, AFInet)
	require.Equal(t, irp.Success, setEvents(ws, dispatch.EventReceiveFrom))

	peerWrite(t, c, local, []byte("one"))
	require.NotNil(t, within(t, lists))
	require.Equal(t, irp.EventPending, evDisable(ws, dispatch.EventReceiveFrom, nil))
	require.True(t, irp.EventPending.IsSuccess(), "STATUS_EVENT_PENDING is an NT_SUCCESS value")
	proceed <- struct{}{}

	require.Equal(t, irp.Success, setEvents(ws, dispatch.EventReceiveFrom))
	peerWrite(t, c, local, []byte("two"))
	require.NotNil(t, within(t, lists))
	p := start(t, 1, func(i *irp.IRP) irp.Status { return evDisable(ws, dispatch.EventReceiveFrom, i) })
	require.Equal(t, irp.Pending, p.ret)
	require.False(t, p.completed(), "the disable IRP completes only after the callback returned")
	peerWrite(t, c, local, []byte("three")) // disabled: it waits in the backlog
	proceed <- struct{}{}
	require.Equal(t, irp.Success, p.wait().Status)

	rf := receiveFrom(t, ws, 16)
	io := rf.wait()
	require.Equal(t, irp.Success, io.Status)
	require.Equal(t, "three", string(rf.buf[:io.Information]), "no call started after the disable")
	require.Empty(t, lists)

	require.Equal(t, irp.Success, evDisable(ws, dispatch.EventReceiveFrom, nil))
	require.Equal(t, irp.Success, do(t, 1, func(i *irp.IRP) irp.Status {
		return evDisable(ws, dispatch.EventReceiveFrom, i)
	}).Status)
	close(proceed)
	closeSocketSync(t, ws)
	finish(t, r)
}

// TestDatagramEnableWakesBacklog: datagrams that arrived while the event was off are
// offered as soon as it is enabled, with no new datagram needed (the engine reports
// readiness by edges only).
func TestDatagramEnableWakesBacklog(t *testing.T) {
	r, npi := newReg(t)
	ev := newEvRecorder(t)
	ws, local := newDgSocket(t, npi, AFInet, "ctx", ev.dispatch())
	c, _ := udpPeer(t, AFInet)
	peerWrite(t, c, local, []byte("early"))
	s := sockOf(ws)
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(dgOf(s).backlog) == 1
	}, waitLimit, time.Millisecond)
	ev.answer <- irp.Pending // keep the list: it is read below
	require.Equal(t, irp.Success, setEvents(ws, dispatch.EventReceiveFrom))
	l := ev.next(t)
	require.EqualValues(t, 5, l.Buffer.Length)
	require.Equal(t, irp.Success, ws.Datagram().Release(ws, l))
	closeSocketSync(t, ws)
	finish(t, r)
}

// TestDatagramEnableNeedsBind: the receive-from event is enabled after bind (SPEC.md §2.7).
func TestDatagramEnableNeedsBind(t *testing.T) {
	r, npi := newReg(t)
	io := do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, AFInet, SockDgram, IPProtoUDP, dispatch.DatagramSocket, nil, nil, i)
	})
	require.Equal(t, irp.Success, io.Status)
	ws := io.Object.(*dispatch.Socket)
	require.Equal(t, irp.InvalidDeviceState, setEvents(ws, dispatch.EventReceiveFrom))
	require.Equal(t, irp.InvalidParameter, setEvents(ws, dispatch.EventReceive), "not a datagram event")
	closeSocketSync(t, ws)
	finish(t, r)
}

// TestDatagramDeadSocket checks invariant 37 on the real path: the descriptor stops being a socket
// while a ReceiveFromEvent call runs, and a ReceiveFrom finds out. The NULL list comes once, after
// the running call returned (calls are serial); from then on every call answers
// STATUS_FILE_FORCED_CLOSED until the socket is closed, and the list the application kept cannot be
// released.
func TestDatagramDeadSocket(t *testing.T) {
	requireFixture(t, fixKillTransport)
	r, npi := newReg(t)
	lists := make(chan *dispatch.DatagramIndication, 8)
	proceed := make(chan struct{})
	ws, local := newDgSocket(t, npi, AFInet, nil, blockingDgEvent(lists, proceed))
	c, paddr := udpPeer(t, AFInet)
	require.Equal(t, irp.Success, setEvents(ws, dispatch.EventReceiveFrom))

	peerWrite(t, c, local, []byte("last"))
	first := within(t, lists)
	require.NotNil(t, first)
	// The callback runs on the socket's loop, so the loop cannot notice the death now: a
	// ReceiveFrom does, on the caller's goroutine, and fails.
	killTransport(t, ws)
	rf := receiveFrom(t, ws, 8)
	require.Equal(t, irp.FileForcedClosed, rf.ret)
	rf.wait()
	require.Empty(t, lists, "the NULL list waits for the running call")
	proceed <- struct{}{}
	require.Nil(t, within(t, lists), "a dead socket is told with a NULL list")
	close(proceed)
	require.Equal(t, irp.FileForcedClosed, sendTo(t, ws, []byte("x"), &paddr).Status)
	require.Equal(t, irp.FileForcedClosed, setEvents(ws, dispatch.EventReceiveFrom))
	require.Equal(t, irp.FileForcedClosed, evDisable(ws, dispatch.EventReceiveFrom, nil))
	require.Equal(t, irp.FileForcedClosed, ws.Datagram().Release(ws, first))
	require.Equal(t, irp.FileForcedClosed, dgIoctl(ws, dispatch.SIOWskSetRemoteAddress, paddr))
	require.Empty(t, lists, "the NULL list is told once")
	closeSocketSync(t, ws)
	finish(t, r)
}

// TestDatagramDeadPendingReceive: a ReceiveFrom waiting when the transport dies completes
// with STATUS_FILE_FORCED_CLOSED (no event enabled: nobody to tell otherwise).
func TestDatagramDeadPendingReceive(t *testing.T) {
	requireFixture(t, fixKillTransport)
	r, npi := newReg(t)
	ws, _ := newDgSocket(t, npi, AFInet6, nil, nil)
	rf := receiveFrom(t, ws, 8)
	require.Equal(t, irp.Pending, rf.ret)
	killTransport(t, ws)
	require.Equal(t, irp.FileForcedClosed, rf.wait().Status)
	closeSocketSync(t, ws)
	finish(t, r)
}

// TestDatagramDropsCounted: with nobody taking datagrams, the backlog stops at
// maxDatagramBacklog and the rest are dropped and counted in Stats.DatagramsDropped;
// the oldest datagrams are the ones kept.
func TestDatagramDropsCounted(t *testing.T) {
	r, npi := newReg(t)
	ws, local := newDgSocket(t, npi, AFInet, nil, nil)
	c, _ := udpPeer(t, AFInet)
	s := sockOf(ws)
	backlog := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(dgOf(s).backlog)
	}
	sent := 0
	for k := 0; k < 4*maxDatagramBacklog && r.Stats().DatagramsDropped == 0; k++ {
		peerWrite(t, c, local, []byte(strconv.Itoa(k)))
		sent++
		if k%32 == 31 { // let the loop drain the kernel's buffer, which would drop uncounted
			require.Eventually(t, func() bool { return backlog() == min(sent, maxDatagramBacklog) || r.Stats().DatagramsDropped > 0 },
				waitLimit, time.Millisecond)
		}
	}
	require.Eventually(t, func() bool { return r.Stats().DatagramsDropped > 0 }, waitLimit, time.Millisecond)
	require.Equal(t, maxDatagramBacklog, backlog())
	s.mu.Lock()
	require.EqualValues(t, dgOf(s).dropped, r.Stats().DatagramsDropped, "every drop is counted once")
	s.mu.Unlock()
	rf := receiveFrom(t, ws, 8)
	io := rf.wait()
	require.Equal(t, irp.Success, io.Status)
	require.Equal(t, "0", string(rf.buf[:io.Information]), "the oldest datagram was kept")
	closeSocketSync(t, ws)
	finish(t, r)
}

// TestDatagramEventBatchesBacklog: a backlog larger than one call takes (maxIndicated)
// is delivered in several serial calls without any new datagram, in order.
func TestDatagramEventBatchesBacklog(t *testing.T) {
	r, npi := newReg(t)
	got := make(chan string, 4*maxIndicated)
	calls := make(chan int, 4*maxIndicated)
	cd := &dispatch.ClientDatagramDispatch{ReceiveFromEvent: func(_ any, _ dispatch.Flags, list *dispatch.DatagramIndication) irp.Status {
		n := 0
		for e := list; e != nil; e = e.Next {
			b := make([]byte, e.Buffer.Length)
			e.Buffer.CopyTo(0, b)
			got <- string(b)
			n++
		}
		assert.LessOrEqual(t, n, maxIndicated)
		calls <- n
		return irp.Success
	}}
	ws, local := newDgSocket(t, npi, AFInet, nil, cd)
	c, _ := udpPeer(t, AFInet)
	const total = 2*maxIndicated + 5
	for k := range total {
		peerWrite(t, c, local, []byte(strconv.Itoa(k)))
	}
	s := sockOf(ws)
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(dgOf(s).backlog) == total
	}, waitLimit, time.Millisecond)
	require.Equal(t, irp.Success, setEvents(ws, dispatch.EventReceiveFrom))
	for k := range total {
		require.Equal(t, strconv.Itoa(k), within(t, got))
	}
	ncalls := 0
	for n := 0; n < total; ncalls++ {
		n += within(t, calls)
	}
	require.GreaterOrEqual(t, ncalls, 3, "more than one call's worth was delivered in several calls")
	closeSocketSync(t, ws)
	finish(t, r)
}

// TestDatagramRetainedAtCloseCounted checks invariant 26 for datagram lists: closing with
// a list still retained does not take it back; it is counted as a misuse.
func TestDatagramRetainedAtCloseCounted(t *testing.T) {
	r, npi := newReg(t)
	ev := newEvRecorder(t)
	ws, local := newDgSocket(t, npi, AFInet, "ctx", ev.dispatch())
	c, _ := udpPeer(t, AFInet)
	require.Equal(t, irp.Success, setEvents(ws, dispatch.EventReceiveFrom))
	ev.answer <- irp.Pending
	peerWrite(t, c, local, []byte("kept"))
	l := ev.next(t)
	closeSocketSync(t, ws)
	require.EqualValues(t, 1, r.Stats().Misuse)
	require.EqualValues(t, 4, l.Buffer.Length, "the list stays readable: it was not taken back")
	finish(t, r)
}

// TestDatagramEventToggleStress races SO_WSK_EVENT_CALLBACK enable/disable (with and
// without an IRP) against a steady datagram flow. Counted invariants: the callback never
// runs twice at once (invariant 32); a disable IRP completes exactly once (the pcall
// helpers) and only when no call runs (invariant 35); nothing is delivered twice, and
// every datagram delivered by the event or left for ReceiveFrom was sent. Each disable
// outcome (SUCCESS, EVENT_PENDING, PENDING) must be seen at least once.
func TestDatagramEventToggleStress(t *testing.T) {
	r, npi := newReg(t)
	var running, overlaps atomic.Int32
	seen := make(map[string]int)
	var seenMu sync.Mutex
	cd := &dispatch.ClientDatagramDispatch{ReceiveFromEvent: func(_ any, _ dispatch.Flags, list *dispatch.DatagramIndication) irp.Status {
		if running.Add(1) != 1 {
			overlaps.Add(1)
		}
		for e := list; e != nil; e = e.Next {
			b := make([]byte, e.Buffer.Length)
			e.Buffer.CopyTo(0, b)
			seenMu.Lock()
			seen[string(b)]++
			seenMu.Unlock()
		}
		time.Sleep(200 * time.Microsecond) // widen the window a disable can land in
		running.Add(-1)
		return irp.Success
	}}
	ws, local := newDgSocket(t, npi, AFInet, nil, cd)
	c, _ := udpPeer(t, AFInet)
	require.Equal(t, irp.Success, setEvents(ws, dispatch.EventReceiveFrom))

	stop := make(chan struct{})
	sent := make(chan int, 1)
	go func() {
		n := 0
		defer func() { sent <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := c.WriteToUDPAddrPort([]byte(strconv.Itoa(n)), local); !assert.NoError(t, err) {
				return
			}
			n++
			time.Sleep(50 * time.Microsecond)
		}
	}()

	rounds := 2000
	if testing.Short() {
		rounds = 400
	}
	outcomes := map[irp.Status]int{}
	deadline := time.Now().Add(5 * time.Second)
	for k := 0; k < rounds || (len(outcomes) < 3 && time.Now().Before(deadline)); k++ {
		if k%2 == 0 {
			st := evDisable(ws, dispatch.EventReceiveFrom, nil)
			outcomes[st]++
			require.Contains(t, []irp.Status{irp.Success, irp.EventPending}, st)
		} else {
			p := start(t, 1, func(i *irp.IRP) irp.Status { return evDisable(ws, dispatch.EventReceiveFrom, i) })
			outcomes[p.ret]++
			require.Contains(t, []irp.Status{irp.Success, irp.Pending}, p.ret)
			require.Equal(t, irp.Success, p.wait().Status)
			require.Zero(t, running.Load(), "a disable IRP completed while the callback ran")
		}
		require.Equal(t, irp.Success, setEvents(ws, dispatch.EventReceiveFrom))
		time.Sleep(100 * time.Microsecond)
	}
	close(stop)
	total := within(t, sent)
	require.Equal(t, irp.Success, do(t, 1, func(i *irp.IRP) irp.Status {
		return evDisable(ws, dispatch.EventReceiveFrom, i)
	}).Status)
	require.Zero(t, running.Load(), "a disable IRP completed while the callback ran")
	closeSocketSync(t, ws)

	require.Zero(t, overlaps.Load(), "the callback ran concurrently with itself")
	for _, st := range []irp.Status{irp.Success, irp.EventPending, irp.Pending} {
		require.Positive(t, outcomes[st], "disable outcome %v never happened", st)
	}
	seenMu.Lock()
	defer seenMu.Unlock()
	require.NotEmpty(t, seen)
	for d, n := range seen {
		v, err := strconv.Atoi(d)
		require.NoError(t, err)
		require.Less(t, v, total, "a datagram nobody sent")
		require.Equal(t, 1, n, "datagram %s delivered twice", d)
	}
	finish(t, r)
}

// TestDatagramEarlyRelease: a datagram list released by another goroutine before its
// ReceiveFromEvent returned STATUS_PENDING is fine; returning SUCCESS after releasing it
// is a misuse, counted.
func TestDatagramEarlyRelease(t *testing.T) {
	r, npi := newReg(t)
	var ws *dispatch.Socket
	answer := make(chan irp.Status, 4)
	released := make(chan irp.Status, 4)
	cd := &dispatch.ClientDatagramDispatch{ReceiveFromEvent: func(_ any, _ dispatch.Flags, list *dispatch.DatagramIndication) irp.Status {
		done := make(chan struct{})
		go func() {
			released <- ws.Datagram().Release(ws, list)
			close(done)
		}()
		<-done
		return <-answer
	}}
	w, addr := newDgSocket(t, npi, AFInet, nil, cd)
	ws = w
	c, _ := udpPeer(t, AFInet)
	require.Equal(t, irp.Success, setEvents(ws, dispatch.EventReceiveFrom))

	answer <- irp.Pending
	peerWrite(t, c, addr, []byte("one"))
	require.Equal(t, irp.Success, within(t, released))
	answer <- irp.Success
	peerWrite(t, c, addr, []byte("two"))
	require.Equal(t, irp.Success, within(t, released))
	require.Eventually(t, func() bool { return r.Stats().Misuse == 1 }, waitLimit, time.Millisecond)
	closeSocketSync(t, ws)
	finish(t, r)
}
