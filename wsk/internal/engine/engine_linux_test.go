//go:build linux

package engine

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

func TestReadableWritableEdgeTriggered(t *testing.T) {
	e := newEngine(t, Config{Loops: 2})
	a, b := tcpPair(t)
	defer unix.Close(a)
	defer unix.Close(b)
	r := newRecorder(a)
	f, err := e.Register(a, r)
	require.NoError(t, err)
	require.Equal(t, a, f.Sysfd())
	require.NotNil(t, f.Loop())

	// A fresh connected socket is writable: the first edge arrives alone.
	waitCh(t, r.writeCh, "initial Writable")

	msg := make([]byte, 1000)
	for round := 1; round <= 3; round++ {
		_, err := unix.Write(b, msg)
		require.NoError(t, err)
		waitCh(t, r.readCh, "Readable")
		// Each edge was drained to EAGAIN, so the next write must produce a
		// new edge (which the next waitCh observes).
		require.GreaterOrEqual(t, r.eagains.Load(), int64(round))
	}
	require.Eventually(t, func() bool { return r.bytes.Load() == 3000 }, hangGuard, time.Millisecond)
	require.GreaterOrEqual(t, r.readable.Load(), int64(3))

	// Peer shutdown is reported as readable (RDHUP) and read sees EOF.
	require.NoError(t, unix.Shutdown(b, unix.SHUT_WR))
	require.Eventually(t, r.eof.Load, hangGuard, time.Millisecond)

	require.NoError(t, f.Unregister())
	require.ErrorIs(t, f.Unregister(), ErrNotRegistered)
	require.Equal(t, int64(0), e.Stats().Registered)
}

func TestRegisterErrors(t *testing.T) {
	e := newEngine(t, Config{})
	a, b := tcpPair(t)
	defer unix.Close(a)
	defer unix.Close(b)
	_, err := e.Register(-1, newRecorder(-1))
	require.ErrorIs(t, err, ErrBadFD)
	_, err = e.Register(a, nil)
	require.ErrorIs(t, err, ErrBadFD)
	f, err := e.Register(a, newRecorder(a))
	require.NoError(t, err)
	_, err = e.Register(a, newRecorder(a)) // one loop: same epoll set
	require.ErrorIs(t, err, unix.EEXIST)
	require.NoError(t, f.Unregister())
	// Not a socket that epoll accepts: a regular file gives EPERM.
	_, err = e.Register(1<<20, newRecorder(0))
	require.Error(t, err)
	require.Equal(t, int64(0), e.Stats().Registered)
}

func TestPostOrdering(t *testing.T) {
	e := newEngine(t, Config{Loops: 1})
	l := e.Loops()[0]
	const n = 5000
	var got []int // touched only on the loop goroutine
	for i := 0; i < n; i++ {
		for !l.Post(func() { got = append(got, i) }) {
			barrier(t, l) // queue full: let it drain
		}
	}
	barrier(t, l)
	require.Len(t, got, n)
	for i, v := range got {
		require.Equal(t, i, v)
	}
	require.GreaterOrEqual(t, e.Stats().Posts, uint64(n))
	require.False(t, l.Post(nil))
}

func TestPostBoundQueueFull(t *testing.T) {
	e := newEngine(t, Config{Loops: 1, MaxPosted: 4})
	l := e.Loops()[0]
	started := make(chan struct{})
	release := make(chan struct{})
	require.True(t, l.Post(func() { close(started); <-release }))
	waitCh(t, started, "blocking post")
	var ran atomic.Int64
	for i := 0; i < 4; i++ {
		require.True(t, l.Post(func() { ran.Add(1) }))
	}
	require.False(t, l.Post(func() { ran.Add(1) }), "fifth post on a full queue of 4")
	close(release)
	require.Eventually(t, func() bool { return ran.Load() == 4 }, hangGuard, time.Millisecond)
	barrier(t, l)
	require.Equal(t, int64(4), ran.Load())
}

func TestAfterFuncFiresAndStop(t *testing.T) {
	e := newEngine(t, Config{Loops: 1})
	l := e.Loops()[0]
	fired := make(chan struct{})
	var onLoop atomic.Bool
	tm := l.AfterFunc(time.Millisecond, func() { onLoop.Store(l.isOnLoop()); close(fired) })
	waitCh(t, fired, "timer")
	require.True(t, onLoop.Load(), "timer ran off the loop goroutine")
	require.False(t, tm.Stop(), "Stop after firing")

	var late atomic.Bool
	t2 := l.AfterFunc(time.Hour, func() { late.Store(true) })
	require.True(t, t2.Stop())
	require.False(t, t2.Stop())
	barrier(t, l)
	require.False(t, late.Load())

	// Ordering: a short timer scheduled after a long one fires first (the
	// wakeup shortens the sleeping loop's timeout).
	long := l.AfterFunc(time.Hour, func() { late.Store(true) })
	short := make(chan struct{})
	l.AfterFunc(0, func() { close(short) })
	waitCh(t, short, "zero-delay timer")
	require.True(t, long.Stop())
	require.Equal(t, uint64(2), e.Stats().TimersFired)
	require.False(t, (*Timer)(nil).Stop())
}

func TestCloseStopsAllGoroutines(t *testing.T) {
	e, err := New(Config{Loops: 4})
	require.NoError(t, err)
	a, b := tcpPair(t)
	defer unix.Close(a)
	defer unix.Close(b)
	r := newRecorder(a)
	f, err := e.Register(a, r)
	require.NoError(t, err)
	l := f.Loop()
	tm := l.AfterFunc(time.Hour, func() {})
	var ran atomic.Bool
	require.True(t, l.Post(func() { ran.Store(true) }))

	require.NoError(t, e.Close())
	require.NoError(t, e.Close(), "Close is idempotent")
	goleak.VerifyNone(t)

	require.True(t, ran.Load(), "post accepted before Close runs")
	require.False(t, tm.Stop(), "timers are dropped by Close")
	_, err = e.Register(b, newRecorder(b))
	require.ErrorIs(t, err, ErrClosed)
	require.False(t, l.Post(func() {}))
	require.False(t, l.AfterFunc(0, func() {}).Stop())
	require.ErrorIs(t, f.Unregister(), ErrNotRegistered, "Close dropped the registration")
	var inline atomic.Bool
	require.ErrorIs(t, f.UnregisterFunc(func() { inline.Store(true) }), ErrNotRegistered)
	require.True(t, inline.Load(), "UnregisterFunc after Close runs fn inline")
	require.Equal(t, int64(0), e.Stats().Registered)

	// The fd itself is still open: the engine never closes it.
	_, err = unix.Write(b, []byte("x"))
	require.NoError(t, err)
}

func TestCloseFromLoopDoesNotDeadlock(t *testing.T) {
	e, err := New(Config{Loops: 2})
	require.NoError(t, err)
	done := make(chan struct{})
	require.True(t, e.Loops()[1].Post(func() {
		assert.NoError(t, e.Close())
		close(done)
	}))
	waitCh(t, done, "Close from loop")
	require.NoError(t, e.Close())
}

func TestPanicInHandlerCountedLoopSurvives(t *testing.T) {
	var got atomic.Value
	e := newEngine(t, Config{Loops: 1, OnPanic: func(v any) { got.Store(v) }})
	a, b := tcpPair(t)
	defer unix.Close(a)
	defer unix.Close(b)
	r := newRecorder(a)
	var once atomic.Bool
	r.onRead = func() {
		if once.CompareAndSwap(false, true) {
			panic("boom")
		}
	}
	f, err := e.Register(a, r)
	require.NoError(t, err)
	_, err = unix.Write(b, []byte("hi"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return got.Load() != nil }, hangGuard, time.Millisecond)
	require.Equal(t, uint64(1), e.Stats().Panics)
	require.Equal(t, "boom", got.Load())

	// The loop survives: posts, timers and further events still run.
	barrier(t, f.Loop())
	require.True(t, f.Loop().Post(func() { panic(errors.New("post panic")) }))
	barrier(t, f.Loop())
	require.Equal(t, uint64(2), e.Stats().Panics)
	_, err = unix.Write(b, []byte("again"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return r.bytes.Load() == 7 }, hangGuard, time.Millisecond)
	require.NoError(t, f.Unregister())
}

func TestFDReuseStaleTagIgnored(t *testing.T) {
	e := newEngine(t, Config{Loops: 1})
	skipOnPortable(t, e, "epoll event tags (fdseq); the portable engine has no event batch to go stale")
	a, b := tcpPair(t)
	defer unix.Close(b)
	old := newRecorder(a)
	f1, err := e.Register(a, old)
	require.NoError(t, err)
	waitCh(t, old.writeCh, "initial Writable")
	oldSeq := f1.seq
	closed := make(chan struct{})
	require.NoError(t, f1.UnregisterFunc(func() {
		assert.NoError(t, unix.Close(a))
		close(closed)
	}))
	waitCh(t, closed, "UnregisterFunc close")
	before := old.readable.Load() + old.writable.Load()

	// The kernel hands out the lowest free number: the new pair reuses a.
	var c, d int
	for tries := 0; ; tries++ {
		c, d = tcpPair(t)
		if c == a || d == a || tries == 10 {
			break
		}
		unix.Close(c)
		unix.Close(d)
	}
	defer unix.Close(c)
	defer unix.Close(d)
	reused, peer := c, d
	if d == a {
		reused, peer = d, c
	}
	require.Equal(t, a, reused, "fd number was not reused; cannot test")
	fresh := newRecorder(reused)
	f2, err := e.Register(reused, fresh)
	require.NoError(t, err)
	require.NotEqual(t, oldSeq, f2.seq)

	// An event still tagged with the old registration (as if it sat in
	// the epoll batch across close+reuse) is dropped.
	stale0 := e.Stats().StaleEvents
	l := f2.Loop()
	require.True(t, l.Post(func() {
		l.dispatch(&unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT, Fd: int32(reused), Pad: int32(oldSeq)})
	}))
	barrier(t, l)
	require.Equal(t, stale0+1, e.Stats().StaleEvents)

	_, err = unix.Write(peer, []byte("new"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return fresh.bytes.Load() == 3 }, hangGuard, time.Millisecond)
	barrier(t, l)
	require.Equal(t, before, old.readable.Load()+old.writable.Load(), "old handler saw an event after Unregister")
	require.Equal(t, int64(0), old.bytes.Load())
	require.NoError(t, f2.Unregister())
}

func TestCloseWithoutUnregisterThenReuse(t *testing.T) {
	e := newEngine(t, Config{Loops: 1})
	a, b := tcpPair(t)
	defer unix.Close(b)
	old := newRecorder(a)
	f1, err := e.Register(a, old)
	require.NoError(t, err)
	waitCh(t, old.writeCh, "initial Writable")
	require.NoError(t, unix.Close(a)) // owner bug: closed while registered
	c, d := tcpPair(t)
	defer unix.Close(c)
	defer unix.Close(d)
	if c != a {
		t.Skip("fd number not reused")
	}
	fresh := newRecorder(c)
	f2, err := e.Register(c, fresh)
	require.NoError(t, err)
	// The dead registration is retired and must not remove the new one.
	require.ErrorIs(t, f1.Unregister(), ErrNotRegistered)
	_, err = unix.Write(d, []byte("ok"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return fresh.bytes.Load() == 2 }, hangGuard, time.Millisecond)
	require.Equal(t, int64(0), old.bytes.Load())
	require.Equal(t, int64(1), e.Stats().Registered)
	require.NoError(t, f2.Unregister())
}

// selfUnregister unregisters from inside Readable; Writable of the same
// event must then not run.
type selfUnregister struct {
	f        atomic.Pointer[FD]
	readable atomic.Int64
	writable atomic.Int64
	afterReg atomic.Int64 // calls observed after Unregister returned
	unreg    atomic.Bool
	done     chan struct{}
	t        testing.TB
}

func (s *selfUnregister) Readable() {
	if s.unreg.Load() {
		s.afterReg.Add(1)
		return
	}
	s.readable.Add(1)
	assert.NoError(s.t, s.f.Load().Unregister())
	s.unreg.Store(true)
	close(s.done)
}

func (s *selfUnregister) Writable() {
	if s.unreg.Load() {
		s.afterReg.Add(1)
		return
	}
	s.writable.Add(1)
}

func TestUnregisterFromInsideHandler(t *testing.T) {
	e := newEngine(t, Config{Loops: 1})
	a, b := tcpPair(t)
	defer unix.Close(a)
	defer unix.Close(b)
	h := &selfUnregister{done: make(chan struct{}), t: t}
	l := e.Loops()[0]
	// Register on the loop so the handler pointer is set before any event.
	regd := make(chan struct{})
	require.True(t, l.Post(func() {
		f, err := e.Register(a, h)
		assert.NoError(t, err)
		h.f.Store(f)
		close(regd)
	}))
	waitCh(t, regd, "register")
	_, err := unix.Write(b, []byte("x"))
	require.NoError(t, err)
	waitCh(t, h.done, "Readable that unregisters")
	_, err = unix.Write(b, []byte("more"))
	require.NoError(t, err)
	// A synthetic event with the right tag must also be ignored now.
	f := h.f.Load()
	require.True(t, l.Post(func() {
		l.dispatch(&unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT, Fd: int32(a), Pad: int32(f.seq)})
	}))
	barrier(t, l)
	require.Equal(t, int64(1), h.readable.Load())
	require.Equal(t, int64(0), h.afterReg.Load())
	require.Equal(t, int64(0), e.Stats().Registered)
}
