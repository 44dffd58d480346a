//go:build linux

package winsock_test

import (
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/winsock"
)

// The linger table as a plain Linux peer sees it. Each row logs "peer saw ...", which
// is the matrix of the report.

// linger {0,*}, default: closesocket returns at once with 4,000,000 bytes still queued
// (the peer is not reading yet); the peer then reads every byte and EOF, and no reset
// follows once it closes too (invariant 42).
func TestLingerDefaultDeliversThenEOF(t *testing.T) {
	w, th := session(t)
	s, peer := dialPeer(t, th)
	const n = 4_000_000
	ov := fill(t, th, s, n)
	start := time.Now()
	require.NoError(t, th.Closesocket(s))
	t.Logf("closesocket {0,*} returned after %v", time.Since(start))
	require.EqualValues(t, 1, w.Stats().BackgroundCloses)
	saw := drain(peer)
	t.Logf("linger {0,*}: peer saw %d bytes, then %v", saw.N, saw)
	require.True(t, saw.EOF && !saw.Reset, "peer: %v", saw)
	require.EqualValues(t, n, saw.N)
	code, _, _, pending := ov.Result()
	require.False(t, pending)
	require.Equal(t, irp.WSAOperationAborted, code, "the pending send's notification: aborted by the close (its bytes still went out as queued data)")
	require.NoError(t, peer.Close())
	require.Eventually(t, func() bool { return w.Stats().ClosesGraceful == 1 }, waitLimit, time.Millisecond)
	require.Zero(t, w.Stats().ClosesReset)
}

// linger {1,0}: hard close, RST at once, unsent data dropped (invariant 43).
func TestLingerHardResets(t *testing.T) {
	_, th := session(t)
	s, peer := dialPeer(t, th)
	setLinger(t, th, s, 1, 0)
	_, err := th.Send(s, []byte("some data"), 0)
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, th.Closesocket(s))
	t.Logf("closesocket {1,0} returned after %v", time.Since(start))
	saw := drain(peer)
	t.Logf("linger {1,0}: peer saw %d bytes, then %v", saw.N, saw)
	require.True(t, saw.Reset && !saw.EOF, "peer: %v", saw)
}

// linger {1,1} on a blocking socket whose peer stops reading: closesocket resets after
// about 1 s and returns 0 (invariant 44; TESTING.md case 31).
func TestLingerTimedStalledPeerResets(t *testing.T) {
	w, th := session(t)
	s, peer := dialPeer(t, th)
	setLinger(t, th, s, 1, 1)
	fill(t, th, s, 8_000_000)
	start := time.Now()
	require.NoError(t, th.Closesocket(s), "returns 0 even when it resets")
	took := time.Since(start)
	t.Logf("closesocket {1,1} with a stalled peer returned after %v", took)
	saw := drain(peer)
	t.Logf("linger {1,1}, peer not reading: peer saw %d bytes, then %v", saw.N, saw)
	require.True(t, saw.Reset, "peer: %v", saw)
	require.EqualValues(t, 1, w.Stats().ResetsLingerExpiry)
}

// linger {1,5} with a reader that drains in time: FIN, no reset, well before 5 s
// (invariant 44; TESTING.md case 32).
func TestLingerTimedDrainingPeerFIN(t *testing.T) {
	w, th := session(t)
	s, peer := dialPeer(t, th)
	setLinger(t, th, s, 1, 5)
	const n = 4_000_000
	fill(t, th, s, n)
	got := make(chan peerSaw, 1)
	go func() { got <- drain(peer) }()
	start := time.Now()
	require.NoError(t, th.Closesocket(s))
	t.Logf("closesocket {1,5} with a draining peer returned after %v", time.Since(start))
	saw := <-got
	t.Logf("linger {1,5}, peer draining: peer saw %d bytes, then %v", saw.N, saw)
	require.True(t, saw.EOF && !saw.Reset, "peer: %v", saw)
	require.EqualValues(t, n, saw.N)
	require.NoError(t, peer.Close())
	require.Eventually(t, func() bool { return w.Stats().ClosesGraceful == 1 }, waitLimit, time.Millisecond)
	require.Zero(t, w.Stats().ClosesReset)
}

// linger {1,n} on a nonblocking socket with data not delivered: WSAEWOULDBLOCK, again
// and again, the handle stays valid and nothing is sent; after {1,0} the close succeeds
// (invariant 45; TESTING.md case 33).
func TestLingerNonblockingWouldBlock(t *testing.T) {
	_, th := session(t)
	s, peer := dialPeer(t, th)
	setLinger(t, th, s, 1, 5)
	fill(t, th, s, 8_000_000)
	setNonblocking(t, th, s, true)
	for range 5 {
		require.Equal(t, irp.WSAEWOULDBLOCK, code(th.Closesocket(s)))
	}
	_, err := th.Getsockopt(s, winsock.SOLSocket, winsock.SOError, make([]byte, 4))
	require.NoError(t, err, "the handle stayed valid")
	require.Zero(t, soError(peer))
	setLinger(t, th, s, 1, 0)
	require.NoError(t, th.Closesocket(s))
	saw := drain(peer)
	t.Logf("linger {1,5} nonblocking, then {1,0}: peer saw %d bytes, then %v", saw.N, saw)
	require.True(t, saw.Reset && !saw.EOF, "no FIN was sent before the reset: %v", saw)
}

// Nonblocking {1,n} once the data has been delivered: the close succeeds gracefully.
func TestLingerNonblockingDeliveredCloses(t *testing.T) {
	w, th := session(t)
	s, peer := dialPeer(t, th)
	setLinger(t, th, s, 1, 5)
	setNonblocking(t, th, s, true)
	_, err := th.Send(s, []byte("hello"), 0)
	require.NoError(t, err)
	b := make([]byte, 5)
	_, err = peer.Read(b)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		err := th.Closesocket(s)
		require.True(t, err == nil || code(err) == irp.WSAEWOULDBLOCK, "%v", err)
		return err == nil
	}, waitLimit, time.Millisecond)
	saw := drain(peer)
	require.True(t, saw.EOF && !saw.Reset, "peer: %v", saw)
	require.NoError(t, peer.Close())
	require.Eventually(t, func() bool { return w.Stats().ClosesGraceful == 1 }, waitLimit, time.Millisecond)
}

// Data arriving after a {0,*} close resets the connection (and is counted).
func TestLingerDefaultLateDataResets(t *testing.T) {
	w, th := session(t)
	s, peer := dialPeer(t, th)
	require.NoError(t, th.Closesocket(s))
	_, err := peer.Write([]byte("late"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return w.Stats().ResetsLateData == 1 }, waitLimit, time.Millisecond)
	saw := drain(peer)
	t.Logf("linger {0,*}, data after close: peer saw %v", saw)
	require.True(t, saw.Reset, "peer: %v", saw)
}

// The background closes are bounded: beyond the bound a close resets, counted.
func TestLingerBackgroundBound(t *testing.T) {
	w, th := session(t, winsock.WithBackgroundCloses(1, 0))
	s1, p1 := dialPeer(t, th)
	s2, p2 := dialPeer(t, th)
	require.NoError(t, th.Closesocket(s1))
	require.NoError(t, th.Closesocket(s2))
	saw := drain(p2)
	require.True(t, saw.Reset, "peer: %v", saw)
	require.Eventually(t, func() bool { return w.Stats().ResetsTableFull == 1 }, waitLimit, time.Millisecond)
	require.EqualValues(t, 1, w.Stats().BackgroundCloses)
	require.NoError(t, p1.Close())
	require.Eventually(t, func() bool { return w.Stats().ClosesGraceful == 1 }, waitLimit, time.Millisecond)
}

// A peer that never sends its FIN: the background wait ends with a counted reset.
func TestLingerFINTimeout(t *testing.T) {
	w, th := session(t, winsock.WithBackgroundCloses(0, 200*time.Millisecond))
	s, peer := dialPeer(t, th)
	require.NoError(t, th.Closesocket(s))
	require.Eventually(t, func() bool { return w.Stats().ResetsFINTimeout == 1 }, waitLimit, time.Millisecond)
	saw := drain(peer)
	t.Logf("linger {0,*}, peer never closes: peer saw %v", saw)
	require.True(t, saw.EOF && saw.Reset, "FIN, then the reset: %v", saw)
}

// shutdown(SD_SEND): the peer reads the data then EOF; local sends fail with
// WSAESHUTDOWN, local receives still work; shutdown never blocks, whatever the linger
// (invariants 49, 50).
func TestShutdownSend(t *testing.T) {
	_, th := session(t)
	s, peer := dialPeer(t, th)
	setLinger(t, th, s, 1, 5)
	fill(t, th, s, 1_000_000) // a queue the peer is not reading yet
	start := time.Now()
	require.NoError(t, th.Shutdown(s, winsock.SDSend))
	t.Logf("shutdown(SD_SEND) with a full queue and linger {1,5} returned after %v", time.Since(start))
	_, err := th.Send(s, []byte("x"), 0)
	require.Equal(t, irp.WSAESHUTDOWN, code(err))
	require.NoError(t, th.Shutdown(s, winsock.SDSend), "shutting down twice is allowed")
	saw := drain(peer)
	require.True(t, saw.EOF && !saw.Reset, "peer: %v", saw)
	require.EqualValues(t, 1_000_000, saw.N)
	_, err = peer.Write([]byte("reply"))
	require.NoError(t, err)
	b := make([]byte, 16)
	n, err := th.Recv(s, b, 0)
	require.NoError(t, err)
	require.Equal(t, "reply", string(b[:n]))
	require.NoError(t, th.Closesocket(s))
}

// shutdown(SD_RECEIVE): later receives fail with WSAESHUTDOWN; data arriving resets.
func TestShutdownReceiveResetsOnData(t *testing.T) {
	_, th := session(t)
	s, peer := dialPeer(t, th)
	require.NoError(t, th.Shutdown(s, winsock.SDReceive))
	_, err := th.Recv(s, make([]byte, 4), 0)
	require.Equal(t, irp.WSAESHUTDOWN, code(err))
	_, err = peer.Write([]byte("data"))
	require.NoError(t, err)
	saw := drain(peer)
	t.Logf("shutdown(SD_RECEIVE) then data: peer saw %v", saw)
	require.True(t, saw.Reset, "peer: %v", saw)
	require.NoError(t, th.Closesocket(s))
}

// An unconnected stream socket cannot be shut down.
func TestShutdownNotConnected(t *testing.T) {
	_, th := session(t)
	s, err := th.Socket(winsock.AFInet, winsock.SockStream, 0)
	require.NoError(t, err)
	require.Equal(t, irp.WSAENOTCONN, code(th.Shutdown(s, winsock.SDSend)))
	require.NoError(t, th.Closesocket(s))
}

// Lingering closes block goroutines, never OS threads: n concurrent {1,1} closes of
// stalled connections create far fewer than n threads (a kernel SO_LINGER > 0 would
// hold one thread in close(2) each) (TESTING.md case 31).
func TestLingerTimedBlocksNoThread(t *testing.T) {
	w, th := session(t)
	const n = 6
	socks := make([]winsock.Socket, n)
	for k := range socks {
		s, _ := dialPeer(t, th)
		setLinger(t, th, s, 1, 1)
		fill(t, th, s, 8_000_000)
		socks[k] = s
	}
	threads := pprof.Lookup("threadcreate").Count()
	start := time.Now()
	var wg sync.WaitGroup
	for _, s := range socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ct, err := threadFor(th)
			if !assert.NoError(t, err) {
				return
			}
			defer closeThread(th, ct)
			assert.NoError(t, ct.Closesocket(s))
		}()
	}
	wg.Wait()
	grown := pprof.Lookup("threadcreate").Count() - threads
	t.Logf("%d concurrent {1,1} closes took %v and created %d OS threads", n, time.Since(start), grown)
	require.Less(t, grown, n)
	require.EqualValues(t, n, w.Stats().ResetsLingerExpiry)
}

// Nonblocking {1,n} with data not delivered, then shutdown(SD_SEND): the next close
// succeeds, and the data and the FIN still reach the peer (invariant 45's "a later
// close succeeds").
func TestLingerNonblockingAfterShutdownCloses(t *testing.T) {
	w, th := session(t)
	s, peer := dialPeer(t, th)
	setLinger(t, th, s, 1, 5)
	const n = 4_000_000
	fill(t, th, s, n)
	setNonblocking(t, th, s, true)
	require.Equal(t, irp.WSAEWOULDBLOCK, code(th.Closesocket(s)))
	require.NoError(t, th.Shutdown(s, winsock.SDSend))
	require.NoError(t, th.Closesocket(s))
	saw := drain(peer)
	t.Logf("linger {1,5} nonblocking, shutdown, closesocket: peer saw %d bytes, then %v", saw.N, saw)
	require.True(t, saw.EOF && !saw.Reset, "peer: %v", saw)
	require.EqualValues(t, n, saw.N)
	require.NoError(t, peer.Close())
	require.Eventually(t, func() bool { return w.Stats().ClosesGraceful == 1 }, waitLimit, time.Millisecond)
}
