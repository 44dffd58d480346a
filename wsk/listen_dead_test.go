//go:build unix || windows

package wsk

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// Invariant 37 on a conditional-accept listener whose callbacks are queued or running
// when it dies, and the close path in the same situations. The engine runs a listener's
// callbacks on its loop one after another, so a callback that blocks on a channel holds
// the loop still: connections dialled meanwhile wait in the kernel queue, and the test
// decides exactly which connections one pass of the loop takes and which callbacks it
// queues behind the blocked one. The listener is killed with killTransport (an epoll
// descriptor put over its descriptor number: accept(2) then fails with ENOTSOCK).

// scriptedListener is a conditional-accept client table driven by the test. Each
// InspectEvent with an ID reports a copy on ids and then blocks until the test sends the
// answer; one with a NULL ID (the listener is dead) is reported as nil and returns at
// once. AcceptEvent reports each socket (nil for the dead listener) on offered and
// refuses every real one, so nothing is handed to the test to close.
type scriptedListener struct {
	t       *testing.T
	ids     chan *dispatch.InspectID
	answer  chan dispatch.InspectAction
	offered chan *dispatch.Socket
	aborted chan dispatch.InspectID
}

func newScriptedListener(t *testing.T) *scriptedListener {
	return &scriptedListener{t: t, ids: make(chan *dispatch.InspectID, 16),
		answer: make(chan dispatch.InspectAction), offered: make(chan *dispatch.Socket, 16),
		aborted: make(chan dispatch.InspectID, 16)}
}

func (sl *scriptedListener) table() *dispatch.ClientListenDispatch {
	return &dispatch.ClientListenDispatch{
		InspectEvent: func(_ any, _, _ netip.AddrPort, id *dispatch.InspectID) dispatch.InspectAction {
			if id == nil {
				sl.ids <- nil
				return dispatch.InspectReject
			}
			cp := *id
			sl.ids <- &cp
			return <-sl.answer
		},
		AcceptEvent: func(_ any, _ dispatch.Flags, _, _ netip.AddrPort, s *dispatch.Socket) (irp.Status, any, *dispatch.ClientConnectionDispatch) {
			sl.offered <- s
			if s == nil {
				return irp.Success, nil, nil
			}
			return irp.RequestNotAccepted, nil, nil
		},
		AbortEvent: func(_ any, id *dispatch.InspectID) irp.Status {
			if assert.NotNil(sl.t, id) {
				sl.aborted <- *id
			}
			return irp.Success
		},
	}
}

// drained returns what ch holds now, without waiting.
func drained[T any](ch chan T) []T {
	var out []T
	for {
		select {
		case v := <-ch:
			out = append(out, v)
		default:
			return out
		}
	}
}

// countNil counts the nil pointers in vs.
func countNil[T any](vs []*T) int {
	n := 0
	for _, v := range vs {
		if v == nil {
			n++
		}
	}
	return n
}

// newScriptedConditional makes a bound conditional-accept listener with sl's table,
// with the accept event enabled when withAcceptEvent.
func newScriptedConditional(t *testing.T, npi ProviderNPI, sl *scriptedListener, withAcceptEvent bool) (*dispatch.Socket, netip.AddrPort) {
	t.Helper()
	ls := newListenSock(t, npi, nil, sl.table())
	require.Equal(t, irp.Success, setConditional(t, ls))
	addr := bindListen(t, ls)
	if withAcceptEvent {
		require.Equal(t, irp.Success, lsEnable(t, ls, dispatch.EventAccept))
	}
	return ls, addr
}

// queueAcceptBehindInspect brings the listener to: the InspectEvent of a second
// connection running (blocked), an accept callback for the first connection (accepted
// by its InspectEvent) queued behind it in the same loop pass. It returns the two peers.
func queueAcceptBehindInspect(t *testing.T, sl *scriptedListener, addr netip.AddrPort) (c1, c2 net.Conn) {
	t.Helper()
	c1 = lsDial(t, addr)
	require.NotNil(t, within(t, sl.ids), "the first connection is inspected")
	c2 = lsDial(t, addr) // waits in the kernel queue: the loop is inside the first inspect
	// Accepting c1 serves it at once on the loop: the pass takes c2 from the kernel
	// (its InspectEvent is gathered first) and begins the accept call for c1 after it.
	sl.answer <- dispatch.InspectAccept
	require.NotNil(t, within(t, sl.ids), "the second connection is inspected")
	require.Empty(t, sl.offered, "the accept call waits behind the running inspect call")
	return c1, c2
}

// TestListenerDiesDuringInspectWithAcceptQueued: the listener dies while an InspectEvent
// runs and an accept callback is queued behind it; the inspect call then accepts its
// connection, and serving it finds the listener dead. The NULL AcceptSocket used to be
// skipped here (the queued accept call held the event gate, and the listener was marked
// as told anyway). Now the application is told with a NULL AcceptSocket and a NULL
// InspectID, each exactly once, after the running call returned, and no connection is
// offered after the NULL socket; calls fail with STATUS_FILE_FORCED_CLOSED, and every
// connection the listener held is reset.
func TestListenerDiesDuringInspectWithAcceptQueued(t *testing.T) {
	requireFixture(t, fixKillTransport)
	r, npi := newReg(t)
	sl := newScriptedListener(t)
	ls, addr := newScriptedConditional(t, npi, sl, true)
	c1, c2 := queueAcceptBehindInspect(t, sl, addr)
	killTransport(t, ls)
	sl.answer <- dispatch.InspectAccept // serving c2 finds the listener dead

	var offers []*dispatch.Socket
	for {
		s := within(t, sl.offered)
		offers = append(offers, s)
		if s == nil {
			break
		}
	}
	require.Nil(t, within(t, sl.ids), "the dead conditional listener is told with a NULL InspectID")
	require.Equal(t, irp.FileForcedClosed, startAccept(t, ls, nil, nil).wait().Status)
	require.Equal(t, irp.FileForcedClosed, inspectComplete(t, ls, dispatch.InspectID{}, dispatch.InspectAccept))
	closeSocketSync(t, ls)
	// The close IRP completed: no callback runs any more (invariant 23), so the channels
	// hold everything that was told.
	offers = append(offers, drained(sl.offered)...)
	require.Equal(t, 1, countNil(offers), "the NULL AcceptSocket is told exactly once: %v", offers)
	require.Nil(t, offers[len(offers)-1], "no connection is offered after the NULL AcceptSocket")
	require.Empty(t, drained(sl.ids), "the NULL InspectID is told exactly once, and nothing after it")
	require.True(t, readAll(t, c1).reset, "the connection accepted before the death is reset")
	require.True(t, readAll(t, c2).reset, "the connection accepted while dying is reset")
	finish(t, r)
}

// TestListenerDiesWithInspectQueued: two connections are taken in one loop pass, so two
// InspectEvent calls are queued; the listener dies while the first runs, which then
// accepts. The NULL InspectID must be the last inspect call: the queued one for the
// second connection is not made (that connection is reset instead).
func TestListenerDiesWithInspectQueued(t *testing.T) {
	requireFixture(t, fixKillTransport)
	r, npi := newReg(t)
	sl := newScriptedListener(t)
	ls, addr := newScriptedConditional(t, npi, sl, false)
	c0 := lsDial(t, addr)
	require.NotNil(t, within(t, sl.ids))
	c1, c2 := lsDial(t, addr), lsDial(t, addr) // both wait in the kernel queue
	sl.answer <- dispatch.InspectReject        // the next pass takes c1 and c2 together
	require.NotNil(t, within(t, sl.ids), "the first of the two is inspected")
	killTransport(t, ls)
	sl.answer <- dispatch.InspectAccept // serving it finds the listener dead

	require.Nil(t, within(t, sl.ids), "the dead conditional listener is told with a NULL InspectID")
	require.Equal(t, irp.FileForcedClosed, startAccept(t, ls, nil, nil).wait().Status)
	closeSocketSync(t, ls)
	require.Empty(t, drained(sl.ids), "no inspect call after the NULL InspectID")
	require.Empty(t, sl.offered)
	for _, c := range []net.Conn{c0, c1, c2} {
		require.True(t, readAll(t, c).reset)
	}
	finish(t, r)
}

// TestListenerDeadPendingAcceptIRP: the same death with Accept IRPs as the consumer
// and no accept event: the pending Accept IRP completes with STATUS_FILE_FORCED_CLOSED
// and the NULL InspectID is told once.
func TestListenerDeadPendingAcceptIRP(t *testing.T) {
	requireFixture(t, fixKillTransport)
	r, npi := newReg(t)
	sl := newScriptedListener(t)
	ls, addr := newScriptedConditional(t, npi, sl, false)
	a := startAccept(t, ls, nil, nil)
	require.Equal(t, irp.Pending, a.ret)
	c1 := lsDial(t, addr)
	require.NotNil(t, within(t, sl.ids))
	killTransport(t, ls)
	sl.answer <- dispatch.InspectPend // nothing to serve: the posted Readable finds the death
	require.Equal(t, irp.FileForcedClosed, a.wait().Status)
	require.Nil(t, within(t, sl.ids), "the dead conditional listener is told with a NULL InspectID")
	closeSocketSync(t, ls)
	require.Empty(t, drained(sl.ids))
	require.True(t, readAll(t, c1).reset, "the pended connection is reset at close")
	finish(t, r)
}

// TestListenerCloseDuringInspectWithAcceptQueued: the listener is closed while an
// InspectEvent runs and an accept callback is queued behind it. The close IRP does not
// complete while the call runs (invariant 23); once it returned (accepting), no callback
// starts: neither the queued accept call nor a NULL event (a closed listener is not a
// dead one). Every held connection is reset and nothing leaks.
func TestListenerCloseDuringInspectWithAcceptQueued(t *testing.T) {
	r, npi := newReg(t)
	sl := newScriptedListener(t)
	ls, addr := newScriptedConditional(t, npi, sl, true)
	c1, c2 := queueAcceptBehindInspect(t, sl, addr)
	cl := start(t, ls.StackSize(), func(i *irp.IRP) irp.Status { return ls.Basic().CloseSocket(ls, i) })
	require.Equal(t, irp.Pending, cl.ret)
	require.False(t, cl.completed(), "close completed while an inspect call was running")
	sl.answer <- dispatch.InspectAccept
	require.Equal(t, irp.Success, cl.wait().Status)
	require.Empty(t, drained(sl.offered), "no accept call after close began")
	require.Empty(t, drained(sl.ids), "no inspect call after close began")
	require.True(t, readAll(t, c1).reset)
	require.True(t, readAll(t, c2).reset)
	finish(t, r)
}

// TestListenerInspectCompleteRacesClose: WskInspectComplete(Accept) for a pended
// connection, racing WskCloseSocket on the listener. The call either runs before the
// close (STATUS_SUCCESS) or is refused by the guard (STATUS_INVALID_HANDLE); the
// connection is reset either way (it was never handed out), each close completes with
// success, no callback is made after close, and nothing leaks. Both orders are first
// forced once, then raced.
func TestListenerInspectCompleteRacesClose(t *testing.T) {
	r, npi := newReg(t)
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	seen := map[irp.Status]int{}
	for k := 0; k < rounds+2; k++ {
		sl := newScriptedListener(t)
		ls, addr := newScriptedConditional(t, npi, sl, true)
		c := lsDial(t, addr)
		id := within(t, sl.ids)
		require.NotNil(t, id)
		sl.answer <- dispatch.InspectPend
		var ic irp.Status
		switch k {
		case 0: // completed, then closed
			ic = inspectComplete(t, ls, *id, dispatch.InspectAccept)
			closeSocketSync(t, ls)
		case 1: // closed, then completed through the stale pointer
			closeSocketSync(t, ls)
			ic = inspectComplete(t, ls, *id, dispatch.InspectAccept)
		default:
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := start(t, ls.StackSize(), func(i *irp.IRP) irp.Status {
					return ls.Listen().InspectComplete(ls, id, dispatch.InspectAccept, i)
				})
				<-p.done
				ic = p.io.Status
				p.i.Free()
			}()
			closeSocketSync(t, ls)
			wg.Wait()
		}
		seen[ic]++
		assert.Contains(t, []irp.Status{irp.Success, irp.InvalidHandle}, ic, "round %d", k)
		for _, s := range drained(sl.offered) {
			require.NotNil(t, s, "round %d: a closed listener is not dead", k)
		}
		require.Empty(t, drained(sl.ids), "round %d", k)
		require.True(t, readAll(t, c).reset, "round %d: the held connection is reset", k)
	}
	require.NotZero(t, seen[irp.Success], "InspectComplete before close")
	require.NotZero(t, seen[irp.InvalidHandle], "InspectComplete after close")
	require.Equal(t, rounds+2, seen[irp.Success]+seen[irp.InvalidHandle], "every call completed once")
	finish(t, r)
}

// heldCount is the number of connections listener ws holds (pended or ready).
func heldCount(ws *dispatch.Socket) int {
	s := sockOf(ws)
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.listenSide().pended) + len(s.listenSide().ready)
}

// TestListenerDeadNoAbortAfterNullInspect: a connection is pended when the listener dies;
// the NULL InspectID is told. When its peer then goes away, the connection is reset and
// dropped, but WskAbortEvent is not called: the NULL InspectID already told the
// application that every inspection of this listener is over, and nothing follows it.
// While the listener lives, the same peer close is reported with WskAbortEvent.
func TestListenerDeadNoAbortAfterNullInspect(t *testing.T) {
	requireFixture(t, fixKillTransport)
	r, npi := newReg(t)
	for _, dies := range []bool{false, true} {
		sl := newScriptedListener(t)
		ls, addr := newScriptedConditional(t, npi, sl, false)
		c := lsDial(t, addr)
		id := within(t, sl.ids)
		require.NotNil(t, id)
		sl.answer <- dispatch.InspectPend
		if dies {
			killTransport(t, ls)
			require.Nil(t, within(t, sl.ids), "the dead conditional listener is told with a NULL InspectID")
		}
		require.NoError(t, c.Close()) // a FIN with nothing sent: the held watcher drops it
		if dies {
			// abortHeld decides under the lock that drops the connection: once it is
			// gone, no AbortEvent can come for it any more.
			require.Eventually(t, func() bool { return heldCount(ls) == 0 }, waitLimit, time.Millisecond)
		} else {
			require.Equal(t, *id, within(t, sl.aborted), "a live listener reports the abort")
		}
		closeSocketSync(t, ls)
		require.Empty(t, drained(sl.aborted), "WskAbortEvent after the NULL InspectID, or twice")
		require.Empty(t, drained(sl.ids))
	}
	finish(t, r)
}

// TestListenerAbortWaitsForInspectMultiLoop: with several engine loops, a held
// connection may sit on another loop than its listener. Its peer going away while the
// InspectEvent for it is still running must not produce WskAbortEvent during that call
// ("an accept or abort event will follow" the inspect call, SPEC.md §2.9): the abort is made on
// the listener's loop, serialized with its inspect and accept calls, once the running
// call returned (here: Pend), and a later WskInspectComplete for the ID establishes
// nothing.
func TestListenerAbortWaitsForInspectMultiLoop(t *testing.T) {
	r, npi := newReg(t, WithLoops(2))
	var inspecting atomic.Bool
	ids := make(chan dispatch.InspectID, 1)
	answer := make(chan dispatch.InspectAction)
	aborted := make(chan dispatch.InspectID, 4)
	cd := &dispatch.ClientListenDispatch{
		InspectEvent: func(_ any, _, _ netip.AddrPort, id *dispatch.InspectID) dispatch.InspectAction {
			if id == nil {
				return dispatch.InspectReject
			}
			inspecting.Store(true)
			defer inspecting.Store(false)
			ids <- *id
			return <-answer
		},
		AbortEvent: func(_ any, id *dispatch.InspectID) irp.Status {
			assert.False(t, inspecting.Load(), "WskAbortEvent while an InspectEvent runs")
			aborted <- *id
			return irp.Success
		},
	}
	ls := newListenSock(t, npi, nil, cd)
	require.Equal(t, irp.Success, setConditional(t, ls))
	addr := bindListen(t, ls)
	lsLoop := sockOf(ls).efd.Loop()
	// InspectID.Key is the held connection's descriptor, and the engine tells its loop
	// (the epoll engine places a descriptor on loop fd % loops, the portable one
	// round-robin): connections on the listener's own loop are pended (held, so that
	// their descriptor numbers stay taken) until one lands on the other loop.
	var c net.Conn
	var id dispatch.InspectID
	for k := 0; c == nil; k++ {
		require.Less(t, k, 16, "no connection landed on the other loop")
		d := lsDial(t, addr)
		got := within(t, ids)
		if r.eng.LoopOf(int(got.Key)) == lsLoop {
			answer <- dispatch.InspectPend
			// The dialer's socket takes a descriptor too, so the parity would repeat:
			// take one more number.
			f, err := os.Open(os.DevNull)
			require.NoError(t, err)
			t.Cleanup(func() { f.Close() })
			continue
		}
		c, id = d, got
	}
	require.NoError(t, c.Close()) // a FIN with nothing sent: the held watcher drops it
	// Give the connection's loop the chance to misbehave while the inspect call runs; the
	// assertion in AbortEvent is what fails, not this wait.
	select {
	case <-aborted:
		require.Fail(t, "WskAbortEvent while the InspectEvent for it runs")
	case <-time.After(200 * time.Millisecond):
	}
	answer <- dispatch.InspectPend
	require.Equal(t, id, within(t, aborted), "the abort follows the inspect call")
	require.Equal(t, irp.InvalidParameter, inspectComplete(t, ls, id, dispatch.InspectAccept), "an aborted ID establishes nothing")
	closeSocketSync(t, ls)
	require.Empty(t, drained(aborted))
	finish(t, r)
}
