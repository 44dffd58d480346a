//go:build linux

package linger_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/internal/linger"
)

// {0,*}: the close returns at once, the queued data and a FIN still go out, and once the
// peer's FIN arrives the socket closes with no reset (invariant 42).
func TestBackgroundDeliversThenFIN(t *testing.T) {
	r := newRig(t, linger.Config{})
	s, peer := r.connect()
	const n = 4 << 20
	sent := asyncSend(s, n) // more than the socket buffers: still queued at the close
	c := r.e.Background(s)
	require.Equal(t, linger.Pending, c.Outcome(), "a background close returns before it ends")
	require.EqualValues(t, 1, r.e.Stats().Background)
	saw := drain(peer)
	t.Logf("peer saw %d bytes then %v", saw.N, saw)
	require.True(t, saw.EOF, "peer: %v", saw)
	require.EqualValues(t, n, saw.N)
	require.Equal(t, irp.Success, (<-sent).Status)
	require.NoError(t, peer.Close()) // the peer's FIN
	require.Equal(t, linger.Graceful, waitDone(t, c))
	require.Zero(t, soError(peer), "no reset after the close")
	st := r.e.Stats()
	require.EqualValues(t, 1, st.Graceful)
	require.Zero(t, st.Background)
}

// Data arriving after a background close resets the connection.
func TestBackgroundDataAfterCloseResets(t *testing.T) {
	r := newRig(t, linger.Config{})
	s, peer := r.connect()
	c := r.e.Background(s)
	_, err := peer.Write([]byte("late"))
	require.NoError(t, err)
	require.Equal(t, linger.ResetData, waitDone(t, c))
	saw := drain(peer) // after the close finished: the RST has arrived
	t.Logf("peer saw %v", saw)
	require.True(t, saw.Reset, "peer: %v", saw)
	require.EqualValues(t, 1, r.e.Stats().ResetData)
}

// A peer that never sends its FIN: the bounded wait ends with a counted reset.
func TestBackgroundFINTimeoutResets(t *testing.T) {
	r := newRig(t, linger.Config{FINTimeout: 200 * time.Millisecond})
	s, peer := r.connect()
	sendSync(t, s, []byte("hello"))
	start := time.Now()
	c := r.e.Background(s)
	require.Equal(t, linger.ResetTimeout, waitDone(t, c))
	t.Logf("reset after %v", time.Since(start))
	saw := drain(peer)
	t.Logf("peer saw %d bytes then %v", saw.N, saw)
	require.EqualValues(t, 5, saw.N)
	require.True(t, saw.EOF && saw.Reset, "peer: %v", saw) // data, FIN, then the RST
	require.EqualValues(t, 1, r.e.Stats().ResetTimeout)
}

// The background table is bounded: a close that finds it full resets at once, counted.
func TestBackgroundTableFullRefuses(t *testing.T) {
	r := newRig(t, linger.Config{MaxBackground: 1})
	s1, p1 := r.connect()
	s2, p2 := r.connect()
	c1 := r.e.Background(s1)
	c2 := r.e.Background(s2)
	require.Equal(t, linger.ResetRefused, waitDone(t, c2))
	saw := drain(p2)
	require.True(t, saw.Reset, "refused close: peer %v", saw)
	require.EqualValues(t, 1, r.e.Stats().ResetRefused)
	require.EqualValues(t, 1, r.e.Stats().Background)
	require.NoError(t, p1.Close())
	require.Equal(t, linger.Graceful, waitDone(t, c1))
}

// {1,0}: RST at once, unsent data dropped (invariant 43).
func TestHardCloseResets(t *testing.T) {
	r := newRig(t, linger.Config{})
	s, peer := r.connect()
	sent := asyncSend(s, 8<<20)
	c := r.e.Hard(s)
	require.Equal(t, linger.ResetHard, waitDone(t, c))
	<-sent
	saw := drain(peer)
	t.Logf("peer saw %d bytes then %v", saw.N, saw)
	require.True(t, saw.Reset, "peer: %v", saw)
	require.Less(t, saw.N, int64(8<<20), "unsent data dropped")
}

// {1,n} with a peer that drains in time: delivered, then FIN and no reset
// (invariant 44; TESTING.md case 32).
func TestTimedDeliveredThenFIN(t *testing.T) {
	r := newRig(t, linger.Config{})
	s, peer := r.connect()
	const n = 2 << 20
	sent := asyncSend(s, n)
	got := make(chan peerSaw, 1)
	go func() { got <- drain(peer) }()
	var w countingWait
	start := time.Now()
	c, delivered := r.e.Timed(s, 5*time.Second, w.wait)
	t.Logf("Timed returned after %v, %d waits", time.Since(start), w.calls.Load())
	require.True(t, delivered)
	require.Equal(t, irp.Success, (<-sent).Status)
	saw := <-got
	require.True(t, saw.EOF, "peer: %v", saw)
	require.EqualValues(t, n, saw.N)
	require.NoError(t, peer.Close())
	require.Equal(t, linger.Graceful, waitDone(t, c))
	require.EqualValues(t, 1, r.e.Stats().Delivered)
}

// {1,n} with a peer that stops reading: reset when n passes, before Timed returns; the
// wait ran through the hook (invariant 44; TESTING.md case 31).
func TestTimedNotDeliveredResets(t *testing.T) {
	r := newRig(t, linger.Config{})
	s, peer := r.connect()
	sent := asyncSend(s, 8<<20)
	var w countingWait
	start := time.Now()
	c, delivered := r.e.Timed(s, 300*time.Millisecond, w.wait)
	took := time.Since(start)
	t.Logf("Timed returned after %v, %d waits", took, w.calls.Load())
	require.False(t, delivered)
	require.Equal(t, linger.ResetLinger, c.Outcome(), "finished before Timed returned")
	require.Positive(t, w.calls.Load(), "the wait went through the hook")
	require.NotEqual(t, irp.Success, (<-sent).Status)
	saw := drain(peer)
	t.Logf("peer saw %d bytes then %v", saw.N, saw)
	require.True(t, saw.Reset, "peer: %v", saw)
}

// Unsent counts what the peer has not acknowledged.
func TestUnsent(t *testing.T) {
	r := newRig(t, linger.Config{})
	s, peer := r.connect()
	n, st := linger.Unsent(s)
	require.Equal(t, irp.Success, st)
	require.Zero(t, n)
	sent := asyncSend(s, 8<<20)
	n, st = linger.Unsent(s)
	require.Equal(t, irp.Success, st)
	require.Positive(t, n)
	t.Logf("unsent with a stalled peer: %d", n)
	c := r.e.Hard(s)
	waitDone(t, c)
	<-sent
	_ = drain(peer)
}

// Shutdown aborts what is still running when its context ends, and refuses new
// background closes; afterwards nothing is live (goleak checks the rest).
func TestShutdownAborts(t *testing.T) {
	r := newRig(t, linger.Config{})
	s, peer := r.connect()
	c := r.e.Background(s)
	ctx, cancel := contextWithTimeout(100 * time.Millisecond)
	defer cancel()
	require.Error(t, r.e.Shutdown(ctx))
	require.Equal(t, linger.ResetShutdown, c.Outcome())
	saw := drain(peer)
	require.True(t, saw.Reset, "peer: %v", saw)
	s2, p2 := r.connect()
	c2 := r.e.Background(s2)
	require.Equal(t, linger.ResetShutdown, waitDone(t, c2))
	saw = drain(p2)
	require.True(t, saw.Reset, "peer: %v", saw)
	st := r.e.Stats()
	require.EqualValues(t, 2, st.ResetShutdown)
	require.Zero(t, st.Closing)
}

// The owner shut the send side already (Winsock's shutdown(SD_SEND)) with data still
// queued: the engine's own Disconnect is refused, so it waits for the send queue to
// empty (the owner's FIN acknowledged) and still closes with no reset.
func TestBackgroundAfterOwnerDisconnect(t *testing.T) {
	r := newRig(t, linger.Config{})
	s, peer := r.connect()
	const n = 4 << 20
	sent := asyncSend(s, n)
	d := irp.Allocate(s.StackSize())
	d.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		i.Free()
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	_ = s.Connection().Disconnect(s, nil, 0, d) // queued behind the send
	c := r.e.Background(s)
	saw := drain(peer)
	t.Logf("peer saw %d bytes then %v", saw.N, saw)
	require.True(t, saw.EOF && !saw.Reset, "peer: %v", saw)
	require.EqualValues(t, n, saw.N)
	require.Equal(t, irp.Success, (<-sent).Status)
	require.NoError(t, peer.Close())
	require.Equal(t, linger.Graceful, waitDone(t, c))
	require.Zero(t, soError(peer))
}
