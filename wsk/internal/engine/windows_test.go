//go:build windows

package engine

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
)

// What only the Windows engine has: the level-triggered WSAPoll turned into edges by the
// rearm calls, hang-ups and errors that come back whatever was asked, POLLNVAL, and the
// poller's wake-up socket.

// countingHandler counts its calls and never reads or writes: after its first report of
// a direction it never meets EAGAIN, so it never rearms.
type countingHandler struct {
	readable, writable, hangups atomic.Int64
}

func (h *countingHandler) Readable()       { h.readable.Add(1) }
func (h *countingHandler) Writable()       { h.writable.Add(1) }
func (h *countingHandler) ReadableHangup() { h.hangups.Add(1) }

// countedPair registers one end (a) of a new pair with a countingHandler; both ends are
// closed at cleanup.
func countedPair(t *testing.T, e *Engine) (f *FD, h *countingHandler, a, b int) {
	t.Helper()
	a, b = tcpPair(t)
	t.Cleanup(func() {
		assert.NoError(t, sockClose(a))
		assert.NoError(t, sockClose(b))
	})
	h = &countingHandler{}
	f, err := e.Register(a, h)
	require.NoError(t, err)
	return f, h, a, b
}

// pinger is a registered pair that makes the poller go round: each round sends a byte,
// which ends a WSAPoll, and waits until the recorder has read it (and rearmed, which
// ends another one when the poller sleeps). Between rounds the poller builds its array
// again, so a socket that a bug kept watched would be reported again.
type pinger struct {
	a, b int
	r    *recorder
}

func newPinger(t *testing.T, e *Engine) *pinger {
	t.Helper()
	a, b := tcpPair(t)
	p := &pinger{a: a, b: b, r: newRecorder(a)}
	f := registerRec(t, e, p.r)
	t.Cleanup(func() {
		assert.NoError(t, f.UnregisterCloseFunc(func() { assert.NoError(t, sockClose(a)) }))
		assert.NoError(t, sockClose(b))
	})
	return p
}

func (p *pinger) rounds(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		want := p.r.bytes.Load() + 1
		_, err := sockWrite(p.b, []byte{byte(i)})
		require.NoError(t, err)
		require.Eventually(t, func() bool { return p.r.bytes.Load() == want }, hangGuard, 100*time.Microsecond)
	}
}

// pollerOf returns l's poller.
func pollerOf(l *Loop) *poller { return l.port.poller }

// waitPollerAsleep waits (bounded) until l's poller announced that it polls.
func waitPollerAsleep(t *testing.T, l *Loop) {
	t.Helper()
	require.Eventually(t, pollerOf(l).sleeping.Load, hangGuard, 100*time.Microsecond, "the poller never slept")
}

// TestWindowsLevelReportedOnce: a socket whose data nobody reads is reported readable
// once, not at every WSAPoll (the poller goes round 50 times meanwhile), and its
// writability once; RearmRead brings a new Readable (the level is still high), and so
// does RearmWrite for Writable. Stats.Events counts exactly the handler calls.
func TestWindowsLevelReportedOnce(t *testing.T) {
	e := newPortableEngine(t, Config{Loops: 1})
	p := newPinger(t, e)
	f, h, _, b := countedPair(t, e)
	_, err := sockWrite(b, []byte("unread"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return h.readable.Load() == 1 && h.writable.Load() == 1 },
		hangGuard, time.Millisecond, "the first reports")

	p.rounds(t, 50)
	require.EqualValues(t, 1, h.readable.Load(), "unread data reported again without a rearm")
	require.EqualValues(t, 1, h.writable.Load(), "writability reported again without a rearm")
	require.Zero(t, h.hangups.Load(), "data and writability are no hang-up")

	f.RearmRead()
	require.Eventually(t, func() bool { return h.readable.Load() == 2 }, hangGuard, time.Millisecond,
		"RearmRead with data waiting brings a Readable")
	f.RearmWrite()
	require.Eventually(t, func() bool { return h.writable.Load() == 2 }, hangGuard, time.Millisecond,
		"RearmWrite on a writable socket brings a Writable")
	p.rounds(t, 20)
	require.EqualValues(t, 2, h.readable.Load())
	require.EqualValues(t, 2, h.writable.Load())

	barrier(t, f.Loop())
	calls := h.readable.Load() + h.writable.Load() + p.r.readable.Load() + p.r.writable.Load()
	require.EqualValues(t, calls, e.Stats().Events, "Events counts the handler calls")
	require.NoError(t, f.Unregister())
}

// TestWindowsRearmWriteAfterWouldBlock: the owner fills the send buffer to
// WSAEWOULDBLOCK and rearms; once the peer reads, a Writable comes.
func TestWindowsRearmWriteAfterWouldBlock(t *testing.T) {
	e := newPortableEngine(t, Config{Loops: 1})
	f, h, a, b := countedPair(t, e)
	require.Eventually(t, func() bool { return h.writable.Load() == 1 }, hangGuard, time.Millisecond)

	chunk := make([]byte, 64<<10)
	full := false
	for i := 0; i < 4096 && !full; i++ { // at most 256 MiB: far more than any socket buffer
		_, err := sockWrite(a, chunk)
		if wouldBlock(err) {
			full = true
			break
		}
		require.NoError(t, err)
	}
	require.True(t, full, "the send buffer never filled")
	f.RearmWrite()
	buf := make([]byte, 64<<10)
	require.Eventually(t, func() bool {
		for i := 0; i < 64; i++ {
			if n, err := sockRead(b, buf); n <= 0 || err != nil {
				break
			}
		}
		return h.writable.Load() == 2
	}, hangGuard, time.Millisecond, "room in the send buffer after RearmWrite brings a Writable")
	require.NoError(t, f.Unregister())
}

// TestWindowsHangupReportedOnce: a reset (POLLHUP|POLLERR, which WSAPoll returns whatever
// was asked) reaches ReadableHangup once and then leaves the socket out of the poller's
// array: the poller does not spin on it (it goes round 50 times, and WSAPoll returns
// only for the pinger). RearmWrite then brings the error to the writer, once.
func TestWindowsHangupReportedOnce(t *testing.T) {
	e := newPortableEngine(t, Config{Loops: 1})
	p := newPinger(t, e)
	a, b := tcpPair(t)
	defer sockClose(a)
	h := &hupRecorder{recorder: newRecorder(a)}
	f := registerHandler(t, e, h.recorder, h)
	waitCh(t, h.writeCh, "initial Writable")
	_, err := sockWrite(b, []byte("data"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return h.bytes.Load() == 4 }, hangGuard, time.Millisecond)
	require.Zero(t, h.hangups.Load(), "a data edge is no hang-up")

	require.NoError(t, setLingerZero(b))
	require.NoError(t, sockClose(b))
	require.Eventually(t, func() bool { return h.hangups.Load() == 1 }, hangGuard, time.Millisecond,
		"the reset reaches ReadableHangup")

	const rounds = 50
	polls := pollerOf(f.Loop()).polls.Load()
	p.rounds(t, rounds)
	spent := pollerOf(f.Loop()).polls.Load() - polls
	t.Logf("WSAPoll returns over %d rounds: %d", rounds, spent)
	// A round ends at most two WSAPolls: the pinger's byte, and the wake-up datagram of
	// its rearm when the poller already sleeps again. Anything above is a spin.
	require.LessOrEqual(t, spent, uint64(2*rounds+2), "the hung-up socket made the poller spin")
	require.EqualValues(t, 1, h.hangups.Load(), "the hang-up reported again without a rearm")
	require.EqualValues(t, 1, h.writable.Load(), "the writer was not rearmed")

	f.RearmWrite()
	require.Eventually(t, func() bool { return h.writable.Load() == 2 }, hangGuard, time.Millisecond,
		"POLLERR wakes the rearmed writer")
	p.rounds(t, 10)
	require.EqualValues(t, 2, h.writable.Load())
	require.EqualValues(t, 1, h.hangups.Load())
	require.NoError(t, f.Unregister())
}

// TestWindowsFailedConnectWakesWriter: a non-blocking connect to a closed port comes
// back as POLLERR alone, which reaches Writable (the connect's owner learns the
// outcome there, from SO_ERROR) and ReadableHangup, once each.
func TestWindowsFailedConnectWakesWriter(t *testing.T) {
	e := newPortableEngine(t, Config{Loops: 1})
	p := newPinger(t, e)
	ln := newSocket(t, windows.SOCK_STREAM)
	require.NoError(t, windows.Bind(ln, &windows.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	addr, err := windows.Getsockname(ln)
	require.NoError(t, err)
	require.NoError(t, windows.Closesocket(ln)) // nobody listens there now

	c := newSocket(t, windows.SOCK_STREAM)
	defer windows.Closesocket(c)
	require.NoError(t, setNonblock(c, true))
	require.ErrorIs(t, windows.Connect(c, addr), windows.WSAEWOULDBLOCK)
	h := &countingHandler{}
	f, err := e.Register(int(c), h)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return h.writable.Load() == 1 && h.hangups.Load() == 1 },
		hangGuard, time.Millisecond, "the failed connect reaches both directions")
	soErr, err := windows.GetsockoptInt(c, windows.SOL_SOCKET, 0x1007) // SO_ERROR
	require.NoError(t, err)
	require.EqualValues(t, windows.WSAECONNREFUSED, soErr)
	p.rounds(t, 20)
	require.EqualValues(t, 1, h.writable.Load())
	require.EqualValues(t, 1, h.hangups.Load())
	require.Zero(t, h.readable.Load(), "POLLERR makes the read report a hang-up")
	require.NoError(t, f.Unregister())
}

// TestWindowsClosedWithoutUnregister: an owner that closes a registered socket without
// Unregister (a bug) makes the WSAPoll in progress return POLLNVAL for it: counted in
// StaleEvents once, the socket leaves the poller for good (no handler call, no spin),
// and the registration stays until its Unregister.
func TestWindowsClosedWithoutUnregister(t *testing.T) {
	e := newPortableEngine(t, Config{Loops: 1})
	p := newPinger(t, e) // made first: the closed handle's value must not come back in it
	a, b := tcpPair(t)
	defer sockClose(b)
	r := newRecorder(a)
	f := registerRec(t, e, r)
	waitCh(t, r.writeCh, "initial Writable")
	waitPollerAsleep(t, f.Loop()) // in WSAPoll with a's read direction, or about to be
	calls := r.readable.Load() + r.writable.Load()
	require.Zero(t, e.Stats().StaleEvents)

	require.NoError(t, sockClose(a))
	require.Eventually(t, func() bool { return e.Stats().StaleEvents == 1 }, hangGuard, time.Millisecond,
		"POLLNVAL counted")
	p.rounds(t, 20)
	require.EqualValues(t, 1, e.Stats().StaleEvents, "POLLNVAL reported again")
	require.Equal(t, calls, r.readable.Load()+r.writable.Load(), "a handler ran for a closed socket")
	require.EqualValues(t, 2, e.Stats().Registered, "the registration stays until Unregister")
	require.NoError(t, f.Unregister())
	require.EqualValues(t, 1, e.Stats().Registered)
}

// TestWindowsRegisterWakesSleepingPoller: a socket registered while the poller sleeps
// in a WSAPoll that cannot include it is watched at once: Register sends the poller a
// wake-up datagram. Without it nothing would end that WSAPoll.
func TestWindowsRegisterWakesSleepingPoller(t *testing.T) {
	e := newPortableEngine(t, Config{Loops: 1})
	l := e.Loops()[0]
	a, b := tcpPair(t)
	defer sockClose(a)
	defer sockClose(b)
	_, err := sockWrite(b, []byte("x"))
	require.NoError(t, err)
	waitPollerAsleep(t, l) // on its wake-up socket alone: nothing is registered
	polls := pollerOf(l).polls.Load()
	r := newRecorder(a)
	f := registerRec(t, e, r)
	waitCh(t, r.readCh, "Readable of a socket registered while the poller slept")
	require.EqualValues(t, 1, r.bytes.Load())
	require.Greater(t, pollerOf(l).polls.Load(), polls)
	require.NoError(t, f.Unregister())
}

// TestWindowsRegisterRules: values that cannot be a handle, a nil handler and a handle
// that is not a socket are ErrBadFD; a value registered again retires the first
// registration (Windows reuses handle values at once: nothing tells the two cases
// apart); a rearm after Unregister does nothing.
func TestWindowsRegisterRules(t *testing.T) {
	e := newPortableEngine(t, Config{Loops: 2})
	_, err := e.Register(-1, newRecorder(-1))
	require.ErrorIs(t, err, ErrBadFD)
	if strconv.IntSize == 64 {
		above := uint64(maxHandle) // a variable: int(maxHandle + 1) overflows where int is 32 bits
		big := int(above + 1)
		_, err = e.Register(big, newRecorder(big))
		require.ErrorIs(t, err, ErrBadFD, "a value above 32 bits is no handle")
	}
	ev, err := windows.CreateEvent(nil, 0, 0, nil)
	require.NoError(t, err)
	defer windows.CloseHandle(ev)
	_, err = e.Register(int(ev), newRecorder(int(ev)))
	require.ErrorIs(t, err, ErrBadFD, "an event handle is no socket")

	a, b := tcpPair(t)
	defer sockClose(b)
	_, err = e.Register(a, nil)
	require.ErrorIs(t, err, ErrBadFD)
	r1 := newRecorder(a)
	f1 := registerRec(t, e, r1)
	waitCh(t, r1.writeCh, "initial Writable")
	barrier(t, f1.Loop())
	r2 := newRecorder(a)
	f2 := registerRec(t, e, r2)
	require.ErrorIs(t, f1.Unregister(), ErrNotRegistered, "the second Register retired the first")
	require.Equal(t, f2.Loop(), e.LoopOf(a))
	require.EqualValues(t, 1, e.Stats().Registered)
	calls1 := r1.readable.Load() + r1.writable.Load()
	_, err = sockWrite(b, []byte("ok"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return r2.bytes.Load() == 2 }, hangGuard, time.Millisecond)
	barrier(t, f1.Loop())
	require.Equal(t, calls1, r1.readable.Load()+r1.writable.Load(), "the retired handler was called")

	require.NoError(t, f2.UnregisterCloseFunc(func() { assert.NoError(t, sockClose(a)) }))
	f2.RearmRead()
	f2.RearmWrite()
	require.Zero(t, e.Stats().Registered)
	require.Nil(t, e.LoopOf(a))
}
