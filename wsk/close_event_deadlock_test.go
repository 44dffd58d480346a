//go:build unix || windows

package wsk

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// These tests close sockets while their event callback is due, over and over: traffic keeps
// arriving, so the loop is starting a delivery (taking the callbacks rundown under the
// socket's lock) at the moment CloseSocket begins that rundown. A refused acquire must never
// run the close protocol's continuation with the socket's lock held: when it did, the close
// IRP never completed, the loop goroutine stayed stuck with every socket on it, and
// Deregister never returned (refcount's package doc, "Where a drain runs").

const (
	closeRaceRounds  = 20000                 // upper bound on rounds per event kind
	closeRaceBudget  = 5 * time.Second       // and on the time they may take
	closeRaceMinRun  = 10                    // rounds that run whatever the budget
	closeRaceSockets = 1                     // sockets closed per round, each with its own traffic
	closeRoundLimit  = 3 * time.Second       // a close IRP slower than this is a hang
	closeRaceBurst   = 64                    // bytes per write or datagram
	closeRaceDialers = 1                     // peers sending to each listener or datagram socket at once
	closeRaceJitter  = 40 * time.Microsecond // span over which a round delays its close
)

// raceSock is the socket context of one socket of a round: the callback counts into it.
type raceSock struct {
	delivered atomic.Int64
	first     chan struct{} // closed by the first callback with data
	firstAt   time.Time     // when, written before first is closed
	sentAt    time.Time     // when the first send of its traffic went out
	once      sync.Once
}

func newRaceSock() *raceSock { return &raceSock{first: make(chan struct{})} }

func (rs *raceSock) saw() {
	rs.delivered.Add(1)
	rs.once.Do(func() { rs.firstAt = time.Now(); close(rs.first) })
}

// closeRace counts what the rounds of one test saw, to assert that the race it claims to
// cover happened.
type closeRace struct {
	t         *testing.T
	rounds    int
	closes    int   // close IRPs completed with STATUS_SUCCESS
	delivered int64 // callbacks that ran with data
	busy      int   // closes begun while the peer's traffic was still flowing
}

// run runs round until closeRaceRounds or closeRaceBudget, whichever comes first. round
// sets up closeRaceSockets sockets with traffic flowing to each and returns, per socket,
// its context and a function that starts its close; run closes them all at once and waits
// for every close IRP.
//
// When to close: the race is lost or won in the few nanoseconds in which the loop takes the
// callbacks rundown for an arrival, a few microseconds after the send. Each round closes at
// a moment drawn from the closeRaceJitter after its first send, sweeping over that moment.
func (cr *closeRace) run(round func() ([]*raceSock, []func() <-chan irp.Status, func() (busy int))) {
	t := cr.t
	deadline := time.Now().Add(closeRaceBudget)
	for cr.rounds < closeRaceRounds && (cr.rounds < closeRaceMinRun || time.Now().Before(deadline)) {
		socks, closers, stopTraffic := round()
		jitter(socks[0].sentAt, time.Duration(rand.Int64N(int64(closeRaceJitter))))
		closed := make([]<-chan irp.Status, len(closers))
		for k, c := range closers {
			closed[k] = c()
		}
		cr.busy += stopTraffic()
		for _, ch := range closed {
			select {
			case s := <-ch:
				require.Equal(t, irp.Success, s, "close IRP status, round %d", cr.rounds)
				cr.closes++
			case <-time.After(closeRoundLimit):
				failStuck(t, "close IRP never completed: the engine loop is deadlocked")
			}
		}
		for _, rs := range socks {
			cr.delivered += rs.delivered.Load()
		}
		cr.rounds++
	}
	t.Logf("rounds %d, closes %d, callbacks delivered %d, closes begun with traffic flowing %d",
		cr.rounds, cr.closes, cr.delivered, cr.busy)
	require.Equal(t, cr.rounds*closeRaceSockets, cr.closes, "every close IRP completed once")
	require.Positive(t, cr.delivered, "no event callback ran: the race was not exercised")
	require.Positive(t, cr.busy, "no close began while traffic was flowing: the race was not exercised")
}

// jitter spins until d after start: a sleep that short would round up to the timer's
// resolution.
func jitter(start time.Time, d time.Duration) {
	for time.Since(start) < d {
	}
}

// closeAsync starts CloseSocket on ws with an IRP that reports its final status.
func closeAsync(ws *dispatch.Socket) func() <-chan irp.Status {
	return func() <-chan irp.Status {
		i, closed := closeIRPReporting(ws)
		_ = ws.Basic().CloseSocket(ws, i)
		return closed
	}
}

// traffic runs send on a goroutine until it fails, stop is called, or 10,000 sends (bounded
// whatever happens). It returns once the first send went out (noting when in rs), so that
// the close that follows meets the loop while it handles that arrival. The returned stop
// reports 1 if the traffic was still flowing.
func traffic(rs *raceSock, send func() error) (stop func() int) {
	quit := make(chan struct{})
	done := make(chan struct{})
	started := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			select {
			case <-started:
			default:
				close(started)
			}
		}()
		for n := 0; n < 10000; n++ {
			select {
			case <-quit:
				return
			default:
			}
			err := send()
			if n == 0 {
				rs.sentAt = time.Now()
				close(started)
			}
			if err != nil {
				return
			}
			runtime.Gosched() // leave the loop room to deliver: the race needs it busy, not starved
		}
	}()
	<-started
	return func() int {
		busy := 0
		select {
		case <-done:
		default:
			busy = 1
		}
		close(quit)
		<-done
		return busy
	}
}

// eachSocket makes the round function of closeRace.run from one that sets up a single
// socket (given its context) and returns the start of its close and the stop of its traffic.
func eachSocket(one func(rs *raceSock) (closer func() <-chan irp.Status, stop func() int)) func() ([]*raceSock, []func() <-chan irp.Status, func() int) {
	return func() ([]*raceSock, []func() <-chan irp.Status, func() int) {
		var socks []*raceSock
		var closers []func() <-chan irp.Status
		var stops []func() int
		for range closeRaceSockets {
			rs := newRaceSock()
			c, st := one(rs)
			socks, closers, stops = append(socks, rs), append(closers, c), append(stops, st)
		}
		return socks, closers, func() (busy int) {
			for _, st := range stops {
				busy += st()
			}
			return busy
		}
	}
}

// TestCloseRacesReceiveEvent closes connection sockets whose WskReceiveEvent is due.
func TestCloseRacesReceiveEvent(t *testing.T) {
	r, npi := newReg(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	cd := &dispatch.ClientConnectionDispatch{
		ReceiveEvent: func(ctx any, _ dispatch.Flags, list *dispatch.DataIndication, _ int, _ *int) irp.Status {
			if list != nil {
				ctx.(*raceSock).saw()
			}
			return irp.Success
		},
	}
	cr := &closeRace{t: t}
	cr.run(eachSocket(func(rs *raceSock) (func() <-chan irp.Status, func() int) {
		ws, c := rlDialAccepted(t, npi, ln, rs, cd) // conn_helpers_test.go
		require.Equal(t, irp.Success, evSet(ws, dispatch.EventReceive, nil))
		b := make([]byte, closeRaceBurst)
		stop := traffic(rs, func() error { _, err := c.Write(b); return err })
		return closeAsync(ws), func() int { busy := stop(); c.Close(); return busy }
	}))
	finish(t, r)
}

// TestCloseRacesAcceptEvent closes listen sockets whose WskAcceptEvent is due: a dialer
// keeps connecting to each while it closes.
func TestCloseRacesAcceptEvent(t *testing.T) {
	r, npi := newReg(t)
	cd := &dispatch.ClientListenDispatch{
		AcceptEvent: func(ctx any, _ dispatch.Flags, _, _ netip.AddrPort, s *dispatch.Socket) (irp.Status, any, *dispatch.ClientConnectionDispatch) {
			if s != nil {
				ctx.(*raceSock).saw()
			}
			// Refused: the provider closes the connection itself (a reset for the dialer).
			return irp.RequestNotAccepted, nil, nil
		},
	}
	cr := &closeRace{t: t}
	cr.run(eachSocket(func(rs *raceSock) (func() <-chan irp.Status, func() int) {
		ls := newListenSock(t, npi, rs, cd)
		addr := bindListen(t, ls)
		require.Equal(t, irp.Success, evSet(ls, dispatch.EventAccept, nil))
		d := net.Dialer{Timeout: closeRoundLimit}
		return closeAsync(ls), traffic(rs, func() error {
			c, err := d.Dial("tcp", addr.String())
			if err == nil {
				c.Close()
			}
			return err
		})
	}))
	finish(t, r)
}

// TestCloseRacesReceiveFromEvent closes datagram sockets whose WskReceiveFromEvent is due.
func TestCloseRacesReceiveFromEvent(t *testing.T) {
	r, npi := newReg(t)
	cd := &dispatch.ClientDatagramDispatch{
		ReceiveFromEvent: func(ctx any, _ dispatch.Flags, list *dispatch.DatagramIndication) irp.Status {
			if list != nil {
				ctx.(*raceSock).saw()
			}
			return irp.Success
		},
	}
	c, _ := udpPeer(t, AFInet)
	cr := &closeRace{t: t}
	cr.run(eachSocket(func(rs *raceSock) (func() <-chan irp.Status, func() int) {
		ws, local := newDgSocket(t, npi, AFInet, rs, cd)
		require.Equal(t, irp.Success, evSet(ws, dispatch.EventReceiveFrom, nil))
		b := make([]byte, closeRaceBurst)
		// A datagram to a closed port only draws an ICMP error: the traffic goes on
		// until stopped, so every close begins with datagrams still arriving.
		return closeAsync(ws), traffic(rs, func() error { _, _ = c.WriteToUDPAddrPort(b, local); return nil })
	}))
	finish(t, r)
}
