//go:build unix || windows

package wsk

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/internal/sock"
)

// CloseSocket raced against every kind of call (TESTING.md cases 19 and 20; the guard of
// SPEC.md §3.2). A call that races with close has exactly three possible
// fates, and each round of each kind checks that it met one of them, once:
//
//	refused    the guard saw the rundown first: STATUS_INVALID_HANDLE (dispatch's
//	           documented status for any call that follows or races a close), the IRP
//	           completed before the call returned, the provider never reached;
//	completed  the call got in first and finished normally before close cancelled it;
//	cancelled  the call got in first and was still pending: close completed it with
//	           STATUS_CANCELLED, Information 0.
//
// Every admitted IRP (completed or cancelled) must complete before the close IRP
// (stamped by a completion clock), each IRP completes exactly once, and nothing is left
// pending: submitted == completed. Each kind claims the outcomes it can have, and the
// test fails if a claimed outcome never happened (non-vacuous): some rounds pin one
// ordering to guarantee each, the rest race with a start gate and varied yields.

// crClock stamps completions in order.
type crClock struct{ n atomic.Uint64 }

// crCall is one tracked IRP of the race tests. Unlike pcall it records when (on the
// clock) it completed, and it reports contract breaches as fields, because it is started
// on racing goroutines where require must not be used.
type crCall struct {
	i     *irp.IRP
	ret   irp.Status
	count atomic.Int32
	seq   uint64 // completion stamp, set before done is closed
	done  chan struct{}

	io              irp.IoStatusBlock
	pendingReturned bool
	syncBreach      string // a synchronous return that broke SPEC.md §4.5
	freed           bool   // the test goroutine gave the IRP back (wait)
}

// crStart makes the call fn(i) with a fresh IRP whose completion routine counts and
// stamps its completions.
func crStart(clk *crClock, stack int, fn func(*irp.IRP) irp.Status) *crCall {
	c := &crCall{i: irp.Allocate(stack), done: make(chan struct{})}
	c.i.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		if c.count.Add(1) != 1 {
			return irp.MoreProcessingRequired // counted; checked on the test goroutine
		}
		c.seq = clk.n.Add(1)
		c.io = i.IoStatus
		c.pendingReturned = i.PendingReturned()
		close(c.done)
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	c.ret = fn(c.i)
	if c.ret != irp.Pending {
		select {
		case <-c.done:
			if c.io.Status != c.ret || c.pendingReturned {
				c.syncBreach = fmt.Sprintf("returned %v, IoStatus %v, PendingReturned %v", c.ret, c.io.Status, c.pendingReturned)
			}
		default:
			c.syncBreach = fmt.Sprintf("returned %v without completing the IRP", c.ret)
		}
	}
	return c
}

// wait waits for the completion and checks the rest of the contract.
func (c *crCall) wait(t *testing.T) irp.IoStatusBlock {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(waitLimit):
		require.FailNow(t, "IRP never completed")
	}
	require.Empty(t, c.syncBreach)
	require.Equal(t, c.ret == irp.Pending, c.pendingReturned, "Pending return ⇔ PendingReturned")
	require.EqualValues(t, 1, c.count.Load(), "IRP completed more than once")
	if !c.freed {
		c.freed = true
		c.i.Free()
	}
	return c.io
}

func (c *crCall) completed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// crOutcome is the fate of one call racing close.
type crOutcome int

const (
	crRefused crOutcome = iota
	crCompleted
	crCancelled
	crOutcomes
)

func (o crOutcome) String() string {
	return [...]string{"refused", "completed", "cancelled"}[o]
}

// crServer is a net listener on loopback whose accepted connections wait in conns.
// A positive rcvbuf is set on the listener (inherited by the connections, so a wsk send
// of more than a few KiB pends while the peer does not read).
type crServer struct {
	ln    net.Listener
	conns chan net.Conn
	done  chan struct{}
}

func newCRServer(t *testing.T, rcvbuf int) *crServer {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			if rcvbuf > 0 {
				serr = sock.SetInt(int(fd), sock.OptRcvBuf, rcvbuf)
			}
		}); err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(context.Background(), "tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	s := &crServer{ln: ln, conns: make(chan net.Conn, 4096), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-s.done
		close(s.conns)
		for c := range s.conns {
			c.Close()
		}
	})
	return s
}

func (s *crServer) addr() netip.AddrPort { return s.ln.Addr().(*net.TCPAddr).AddrPort() }

// take returns the next accepted connection.
func (s *crServer) take(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c := <-s.conns:
		return c
	case <-time.After(waitLimit):
		require.FailNow(t, "the server accepted nothing")
	}
	return nil
}

// crEnv is what the rounds of one kind share.
type crEnv struct {
	t    *testing.T
	npi  ProviderNPI
	clk  *crClock
	peer *crServer      // the peers of connected sockets (small receive buffer)
	sink *crServer      // the target of racing connects
	full netip.AddrPort // a listener that never completes a handshake
}

// crSmallSndBuf is the SO_SNDBUF of the connected sockets: with the peer's small receive
// buffer, crBig bytes never fit, so a send of them pends while the peer does not read.
const (
	crSmallSndBuf = 4096
	crBig         = 1 << 20
)

var crBigBuf = make([]byte, crBig) // only ever read (sent), so shared by every round

// crConnSocket creates a connection socket with a small send buffer, bound.
func (e *crEnv) crConnSocket() *dispatch.Socket {
	t := e.t
	ws := newConnSocket(t, e.npi, AFInet)
	sz := binary.LittleEndian.AppendUint32(nil, crSmallSndBuf)
	require.Equal(t, irp.Success, ws.Basic().ControlSocket(ws, dispatch.SetOption, SOSndBuf, dispatch.SOLSocket, sz, nil, nil, nil))
	require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Connection().Bind(ws, netip.AddrPort{}, 0, i)
	}).Status)
	return ws
}

// crConnected returns a connected socket and its peer.
func (e *crEnv) crConnected() (*dispatch.Socket, net.Conn) {
	t := e.t
	ws := e.crConnSocket()
	require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Connection().Connect(ws, e.peer.addr(), 0, i)
	}).Status)
	return ws, e.peer.take(t)
}

// crMode is how a round orders the call and the close.
type crMode int

const (
	crRace          crMode = iota // racers and the closer start together at a gate
	crCloseFirst                  // close completes, then the call: refused
	crCompleteFirst               // the call completes, then close: completed
	crPendThenClose               // the call is pending, then close: cancelled
)

// crRound is one socket of a kind, ready for a round.
type crRound struct {
	ws    *dispatch.Socket
	peer  net.Conn
	calls func(g, n int) *crCall // the n-th call of racer g
	// pend makes the next call pend (crPendThenClose; a race round may use it too),
	// returning the calls it made (tracked, not tallied).
	pend func() []*crCall
	// complete prepares a call that completes normally (peer data, a queued client).
	complete  func()
	racers    int
	perRacer  int
	normal    irp.Status // the status of a normal completion
	peerWrite bool       // race rounds: the peer writes while the calls race (receive)
	dial      netip.AddrPort
}

// crKind describes one kind of call.
type crKind struct {
	name   string
	claims []crOutcome
	setup  func(e *crEnv, round int) *crRound
}

func crKinds() []crKind {
	all := []crOutcome{crRefused, crCompleted, crCancelled}
	return []crKind{
		{"send", all, func(e *crEnv, round int) *crRound {
			ws, c := e.crConnected()
			rd := &crRound{ws: ws, peer: c, racers: 4, perRacer: 3, normal: irp.Success}
			rd.calls = func(g, n int) *crCall {
				b := []byte("small send")
				if g == 0 && n == 0 && round%2 == 0 {
					b = crBigBuf // pends: what queues behind it is cancelled by a close
				}
				return crStart(e.clk, ws.StackSize(), func(i *irp.IRP) irp.Status {
					buf := dispatch.MakeBuf(b)
					return ws.Connection().Send(ws, &buf, 0, i)
				})
			}
			rd.pend = func() []*crCall {
				return []*crCall{crStart(e.clk, ws.StackSize(), func(i *irp.IRP) irp.Status {
					buf := dispatch.MakeBuf(crBigBuf)
					return ws.Connection().Send(ws, &buf, 0, i)
				})}
			}
			return rd
		}},
		{"receive", all, func(e *crEnv, round int) *crRound {
			ws, c := e.crConnected()
			rd := &crRound{ws: ws, peer: c, racers: 4, perRacer: 2, normal: irp.Success, peerWrite: round%2 == 1}
			rd.calls = func(g, n int) *crCall {
				return crStart(e.clk, ws.StackSize(), func(i *irp.IRP) irp.Status {
					buf := dispatch.MakeBuf(make([]byte, 16))
					return ws.Connection().Receive(ws, &buf, 0, i)
				})
			}
			rd.complete = func() {
				_, err := c.Write([]byte("data for the receive"))
				require.NoError(e.t, err)
				waitInput(e.t, sockOf(ws).fd)
			}
			return rd
		}},
		{"accept", all, func(e *crEnv, round int) *crRound {
			ls := newListenSock(e.t, e.npi, nil, nil)
			addr := bindListen(e.t, ls)
			rd := &crRound{ws: ls, racers: 2, perRacer: 2, normal: irp.Success}
			if round%2 == 1 {
				rd.dial = addr
			}
			rd.calls = func(g, n int) *crCall {
				return crStart(e.clk, ls.StackSize(), func(i *irp.IRP) irp.Status {
					return ls.Listen().Accept(ls, 0, nil, nil, nil, nil, i)
				})
			}
			rd.complete = func() {
				lsDial(e.t, addr)
				waitQueued(e.t, ls)
			}
			return rd
		}},
		{"connect", all, func(e *crEnv, round int) *crRound {
			ws := e.crConnSocket()
			target := e.sink.addr()
			if round%8 == 5 || round%8 == 7 {
				target = e.full // race rounds where the connect cannot finish
			}
			rd := &crRound{ws: ws, racers: 1, perRacer: 1, normal: irp.Success}
			rd.calls = func(g, n int) *crCall {
				return crStart(e.clk, ws.StackSize(), func(i *irp.IRP) irp.Status {
					return ws.Connection().Connect(ws, target, 0, i)
				})
			}
			rd.pend = func() []*crCall { target = e.full; return nil }
			return rd
		}},
		{"disconnect", all, func(e *crEnv, round int) *crRound {
			ws, c := e.crConnected()
			rd := &crRound{ws: ws, peer: c, racers: 1, perRacer: 1, normal: irp.Success}
			rd.calls = func(g, n int) *crCall {
				return crStart(e.clk, ws.StackSize(), func(i *irp.IRP) irp.Status {
					return ws.Connection().Disconnect(ws, nil, 0, i)
				})
			}
			rd.pend = func() []*crCall {
				// A graceful disconnect waits behind a send that cannot finish.
				return []*crCall{crStart(e.clk, ws.StackSize(), func(i *irp.IRP) irp.Status {
					buf := dispatch.MakeBuf(crBigBuf)
					return ws.Connection().Send(ws, &buf, 0, i)
				})}
			}
			return rd
		}},
		{"control", []crOutcome{crRefused, crCompleted}, func(e *crEnv, round int) *crRound {
			ws := e.crConnSocket()
			rd := &crRound{ws: ws, racers: 4, perRacer: 3, normal: irp.Success}
			rd.calls = func(g, n int) *crCall {
				return crStart(e.clk, ws.StackSize(), func(i *irp.IRP) irp.Status {
					out := make([]byte, 4)
					var got int
					return ws.Basic().ControlSocket(ws, dispatch.GetOption, SOSndBuf, dispatch.SOLSocket, nil, out, &got, i)
				})
			}
			return rd
		}},
	}
}

// crTally counts the outcomes of one kind.
type crTally struct {
	n          [crOutcomes]int
	raced      [crOutcomes]int // the part of n from race rounds (no pinned order)
	tracked    int             // calls made to set a round up (pend), checked but not tallied
	submitted  int
	completedN int
}

// TestCloseRacesEveryCall is TESTING.md cases 19 and 20 generalised: close against send (four
// senders, case 20), receive, accept, connect, disconnect and control, each in its own subtest.
func TestCloseRacesEveryCall(t *testing.T) {
	rounds := 160
	if testing.Short() {
		rounds = 40
	}
	for _, k := range crKinds() {
		t.Run(k.name, func(t *testing.T) {
			if k.name == "connect" {
				requireFixture(t, fixStuckConnect)
			}
			r, npi := newReg(t)
			e := &crEnv{t: t, npi: npi, clk: &crClock{}, peer: newCRServer(t, 4096), sink: newCRServer(t, 0)}
			if k.name == "connect" {
				e.full = stuckConnectTarget(t, "tcp4")
			}
			var tl crTally
			for round := 0; round < rounds; round++ {
				mode := crRace
				if m := round % 8; m < 3 {
					mode = []crMode{crCloseFirst, crCompleteFirst, crPendThenClose}[m]
				}
				if mode == crPendThenClose && !containsOutcome(k.claims, crCancelled) {
					mode = crRace
				}
				crRunRound(t, e, k, round, mode, &tl)
			}
			t.Logf("FIGURE close race %-10s rounds %d: submitted %d, completed %d; refused %d, completed normally %d, cancelled by close %d (race rounds only: %d/%d/%d; +%d set-up IRPs)",
				k.name, rounds, tl.submitted, tl.completedN, tl.n[crRefused], tl.n[crCompleted], tl.n[crCancelled],
				tl.raced[crRefused], tl.raced[crCompleted], tl.raced[crCancelled], tl.tracked)
			require.Equal(t, tl.submitted, tl.completedN, "submitted == completed")
			for _, o := range k.claims {
				require.Positive(t, tl.n[o], "outcome %v never observed", o)
			}
			finish(t, r)
		})
	}
}

func containsOutcome(set []crOutcome, o crOutcome) bool {
	for _, x := range set {
		if x == o {
			return true
		}
	}
	return false
}

// crRunRound plays one round of kind k and tallies it.
func crRunRound(t *testing.T, e *crEnv, k crKind, round int, mode crMode, tl *crTally) {
	t.Helper()
	rd := k.setup(e, round)
	ws := rd.ws
	closeOf := func() *crCall {
		return crStart(e.clk, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Basic().CloseSocket(ws, i) })
	}
	var mu sync.Mutex
	var calls, setupCalls []*crCall
	var closeCall *crCall
	switch mode {
	case crCloseFirst:
		closeCall = closeOf()
		closeCall.wait(t)
		c := rd.calls(0, 0)
		require.Equal(t, irp.InvalidHandle, c.ret, "a call after close is refused")
		calls = append(calls, c)
	case crCompleteFirst:
		if rd.complete != nil {
			rd.complete()
		}
		c := rd.calls(0, 0)
		require.Equal(t, rd.normal, c.wait(t).Status, "a call before close completes normally")
		calls = append(calls, c)
		closeCall = closeOf()
	case crPendThenClose:
		if rd.pend != nil {
			setupCalls = append(setupCalls, rd.pend()...)
		}
		c := rd.calls(1, 1)
		require.Equal(t, irp.Pending, c.ret, "the pinned call pends")
		calls = append(calls, c)
		closeCall = closeOf()
	case crRace:
		if rd.pend != nil && round%4 == 3 {
			setupCalls = append(setupCalls, rd.pend()...)
		}
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for g := 0; g < rd.racers; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				for n := 0; n < rd.perRacer; n++ {
					for y := 0; y < (round*7+g*3+n)%5; y++ {
						runtime.Gosched()
					}
					c := rd.calls(g, n)
					mu.Lock()
					calls = append(calls, c)
					mu.Unlock()
				}
			}()
		}
		if rd.peerWrite {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				_, _ = rd.peer.Write([]byte("racing data"))
			}()
		}
		if rd.dial.IsValid() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				// The listener may already be closed: a refusal or a reset is fine.
				if c, err := net.DialTimeout("tcp4", rd.dial.String(), waitLimit); err == nil {
					c.Close()
				}
			}()
		}
		closed := make(chan *crCall, 1)
		go func() {
			<-gate
			for y := 0; y < (round%4)*3; y++ {
				runtime.Gosched()
			}
			closed <- closeOf()
		}()
		close(gate)
		wg.Wait()
		closeCall = <-closed
	}

	cio := closeCall.wait(t)
	require.Equal(t, irp.Success, cio.Status)
	require.Equal(t, irp.Pending, closeCall.ret, "CloseSocket always pends")
	var accepted []*dispatch.Socket
	check := func(c *crCall) irp.IoStatusBlock {
		io := c.wait(t)
		if io.Status != irp.InvalidHandle {
			require.Less(t, c.seq, closeCall.seq, "an admitted IRP completed after the close IRP (status %v)", io.Status)
		}
		if s, ok := io.Object.(*dispatch.Socket); ok && io.Status == irp.Success {
			accepted = append(accepted, s)
		}
		return io
	}
	for _, c := range setupCalls {
		io := check(c)
		assert.Contains(t, []irp.Status{irp.Cancelled, irp.Success}, io.Status, "set-up call")
		tl.tracked++
	}
	for _, c := range calls {
		tl.submitted++
		if !c.completed() {
			require.FailNow(t, "a call left its IRP pending after close completed")
		}
		io := check(c)
		tl.completedN++
		var o crOutcome
		switch io.Status {
		case irp.InvalidHandle:
			o = crRefused
		case irp.Cancelled:
			require.Zero(t, io.Information, "a cancelled IRP carries no bytes")
			o = crCancelled
		case rd.normal:
			o = crCompleted
		default:
			require.Failf(t, "unexpected status", "%s round %d (mode %d): %v", k.name, round, mode, io.Status)
		}
		tl.n[o]++
		if mode == crRace {
			tl.raced[o]++
		}
	}
	for _, s := range accepted {
		closeSocketSync(t, s)
	}
	if rd.peer != nil {
		rd.peer.Close()
	}
}

// TESTING.md case 19 (CloseCancelsAllPending): K pending IRPs of every kind — receives, sends (the
// first cannot finish, the rest queue behind it), a graceful disconnect behind them,
// accepts, connects — then each socket is closed: every IRP completes exactly once with
// STATUS_CANCELLED and Information 0, before its socket's close IRP, and Stats counts
// them all as cancelled.
func TestCloseCancelsAllPendingOfEachKind(t *testing.T) {
	const k = 4
	r, npi := newReg(t)
	clk := &crClock{}
	e := &crEnv{t: t, npi: npi, clk: clk, peer: newCRServer(t, 4096)}
	if haveFixture[fixStuckConnect] {
		e.full = stuckConnectTarget(t, "tcp4")
	}
	base := r.Stats().IRPsCancelled

	type group struct {
		ws    *dispatch.Socket
		calls []*crCall
		kind  string
	}
	var groups []*group

	ws, c := e.crConnected()
	defer c.Close()
	g := &group{ws: ws, kind: "receive+send+disconnect"}
	for n := 0; n < k; n++ {
		g.calls = append(g.calls, crStart(clk, ws.StackSize(), func(i *irp.IRP) irp.Status {
			buf := dispatch.MakeBuf(make([]byte, 8))
			return ws.Connection().Receive(ws, &buf, 0, i)
		}))
	}
	for n := 0; n < k; n++ {
		b := []byte("queued")
		if n == 0 {
			b = crBigBuf
		}
		g.calls = append(g.calls, crStart(clk, ws.StackSize(), func(i *irp.IRP) irp.Status {
			buf := dispatch.MakeBuf(b)
			return ws.Connection().Send(ws, &buf, 0, i)
		}))
	}
	g.calls = append(g.calls, crStart(clk, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Connection().Disconnect(ws, nil, 0, i)
	}))
	groups = append(groups, g)

	ls := newListenSock(t, npi, nil, nil)
	bindListen(t, ls)
	g = &group{ws: ls, kind: "accept"}
	for n := 0; n < k; n++ {
		g.calls = append(g.calls, crStart(clk, ls.StackSize(), func(i *irp.IRP) irp.Status {
			return ls.Listen().Accept(ls, 0, nil, nil, nil, nil, i)
		}))
	}
	groups = append(groups, g)

	for n := 0; n < k && e.full.IsValid(); n++ { // no pending connect without the fixture
		cs := e.crConnSocket()
		groups = append(groups, &group{ws: cs, kind: "connect", calls: []*crCall{crStart(clk, cs.StackSize(), func(i *irp.IRP) irp.Status {
			return cs.Connection().Connect(cs, e.full, 0, i)
		})}})
	}

	total := 0
	for _, g := range groups {
		for _, c := range g.calls {
			require.Equal(t, irp.Pending, c.ret, "%s: every IRP is pending before the close", g.kind)
			total++
		}
	}
	require.EqualValues(t, total, r.Stats().IRPsPending)
	for _, g := range groups {
		closeCall := crStart(clk, g.ws.StackSize(), func(i *irp.IRP) irp.Status { return g.ws.Basic().CloseSocket(g.ws, i) })
		require.Equal(t, irp.Success, closeCall.wait(t).Status)
		for _, c := range g.calls {
			require.True(t, c.completed(), "%s: an IRP was still pending when the close IRP completed", g.kind)
			io := c.wait(t)
			require.Equal(t, irp.Cancelled, io.Status, g.kind)
			require.Zero(t, io.Information)
			require.Less(t, c.seq, closeCall.seq, "%s: completed after the close IRP", g.kind)
		}
	}
	t.Logf("FIGURE close cancels all pending: %d IRPs (%d receives, %d sends, 1 disconnect, %d accepts, %d connects), all cancelled before their close IRP",
		total, k, k, k, k)
	finish(t, r)
	require.EqualValues(t, total, r.Stats().IRPsCancelled-base)
}
