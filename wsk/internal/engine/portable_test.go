//go:build unix || windows

package engine

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// These tests always run the portable engine (the other engine tests run it too under
// GOWSK_ENGINE=portable); they compile on every Unix and on Windows, where the portable
// engine's readiness comes from WSAPoll (windows_test.go has what only Windows has).

func newPortableEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	cfg.Portable = true
	e := newEngine(t, cfg)
	require.True(t, e.Portable())
	return e
}

// onLoopRecorder records whether every handler call ran on the FD's loop goroutine.
type onLoopRecorder struct {
	*recorder
	loop  atomic.Pointer[Loop]
	calls atomic.Int64
	off   atomic.Int64
}

func (r *onLoopRecorder) check() {
	r.calls.Add(1)
	if l := r.loop.Load(); l != nil && !l.isOnLoop() {
		r.off.Add(1)
	}
}
func (r *onLoopRecorder) Readable() { r.check(); r.recorder.Readable() }
func (r *onLoopRecorder) Writable() { r.check(); r.recorder.Writable() }

// TestPortableReadinessOnLoop: the first edges arrive without any traffic (as epoll
// reports a ready descriptor when it is added), data is delivered to Readable on the
// loop goroutine, every byte written is read (no edge lost while a handler ran), and
// each registration costs exactly its waiter goroutines (two on Unix, none on Windows)
// until Unregister.
func TestPortableReadinessOnLoop(t *testing.T) {
	e := newPortableEngine(t, Config{Loops: 2})
	a, b := tcpPair(t)
	defer sockClose(a)
	defer sockClose(b)
	r := &onLoopRecorder{recorder: newRecorder(a)}
	f := registerHandler(t, e, r.recorder, r)
	r.loop.Store(f.Loop())
	waitCh(t, r.writeCh, "initial Writable")
	require.Equal(t, int64(waitersPerFD), e.Stats().Waiters, "waiters per registration")

	const writes, size = 200, 100
	msg := make([]byte, size)
	for i := 0; i < writes; i++ {
		_, err := sockWrite(b, msg)
		require.NoError(t, err)
		if i%50 == 0 {
			time.Sleep(time.Millisecond) // let some writes land mid-handler, some between
		}
	}
	require.Eventually(t, func() bool { return r.bytes.Load() == writes*size }, hangGuard, time.Millisecond)
	require.Zero(t, r.off.Load(), "a handler ran off its loop goroutine")
	require.NoError(t, sockClose(b))
	b = -1
	require.Eventually(t, func() bool { return r.eof.Load() }, hangGuard, time.Millisecond, "the FIN is an edge too")
	st := e.Stats()
	t.Logf("calls=%d events=%d wakeups=%d readable=%d writable=%d", r.calls.Load(), st.Events, st.Wakeups,
		r.readable.Load(), r.writable.Load())
	require.NoError(t, f.Unregister())
	requireNoWaiters(t, e)
	require.Zero(t, e.Stats().Registered)
}

// TestPortablePostOrderAndBound: posts from one goroutine run in order, a full queue
// refuses (never blocks), and every accepted post runs once.
func TestPortablePostOrderAndBound(t *testing.T) {
	e := newPortableEngine(t, Config{Loops: 1, MaxPosted: 8})
	l := e.Loops()[0]
	block := make(chan struct{})
	started := make(chan struct{})
	require.True(t, l.Post(func() { close(started); <-block }))
	waitCh(t, started, "blocking post")
	var order []int
	accepted := 0
	for i := 0; i < 20; i++ {
		if l.Post(func() { order = append(order, i) }) {
			accepted++
		}
	}
	require.Equal(t, 8, accepted, "the queue holds MaxPosted")
	n, bound := l.queued()
	require.Equal(t, 8, n)
	require.Equal(t, 8, bound)
	require.False(t, l.Post(nil))
	close(block)
	barrier(t, l)
	require.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7}, order)
	require.Equal(t, uint64(10), e.Stats().Posts, "blocking post + 8 + barrier")
}

// TestPortableTimers: timers run on the loop, Stop wins exactly when fn has not run, a
// short timer set after a long one fires first, and Close drops what is left.
func TestPortableTimers(t *testing.T) {
	e := newPortableEngine(t, Config{Loops: 1})
	l := e.Loops()[0]
	fired := make(chan struct{})
	var onLoop atomic.Bool
	tm := l.AfterFunc(time.Millisecond, func() { onLoop.Store(l.isOnLoop()); close(fired) })
	waitCh(t, fired, "timer")
	require.True(t, onLoop.Load())
	require.False(t, tm.Stop())
	long := l.AfterFunc(time.Hour, func() { t.Error("the hour-long timer fired") })
	short := make(chan struct{})
	l.AfterFunc(5*time.Millisecond, func() { close(short) })
	waitCh(t, short, "short timer after a long one")
	require.True(t, long.Stop())
	require.False(t, long.Stop())
	require.Equal(t, uint64(2), e.Stats().TimersFired)
	require.False(t, l.AfterFunc(time.Hour, nil).Stop(), "a nil fn schedules nothing")
}

// blockingHandler blocks its first Readable until released, to unregister from another
// goroutine while it runs.
type blockingHandler struct {
	fd      int
	entered chan struct{}
	release chan struct{}
	running atomic.Bool
	calls   atomic.Int64
	once    sync.Once
}

func (h *blockingHandler) Readable() {
	h.calls.Add(1)
	h.running.Store(true)
	defer h.running.Store(false)
	var buf [64]byte
	for {
		if n, _ := sockRead(h.fd, buf[:]); n <= 0 {
			break
		}
	}
	h.once.Do(func() {
		close(h.entered)
		<-h.release
	})
}
func (h *blockingHandler) Writable() {}

// TestPortableUnregisterWhileHandlerRuns: UnregisterFunc from another goroutine while the
// FD's handler runs returns at once, defers fn to the loop until the handler returned,
// and no handler call starts afterwards, even with data arriving.
func TestPortableUnregisterWhileHandlerRuns(t *testing.T) {
	e := newPortableEngine(t, Config{Loops: 1})
	a, b := tcpPair(t)
	defer sockClose(b)
	h := &blockingHandler{fd: a, entered: make(chan struct{}), release: make(chan struct{})}
	f, err := e.Register(a, h)
	require.NoError(t, err)
	_, err = sockWrite(b, []byte("x"))
	require.NoError(t, err)
	waitCh(t, h.entered, "handler entered")
	fnDone := make(chan struct{})
	var ranDuringHandler atomic.Bool
	require.NoError(t, f.UnregisterFunc(func() {
		ranDuringHandler.Store(h.running.Load())
		assert.NoError(t, sockClose(a))
		close(fnDone)
	}))
	select {
	case <-fnDone:
		t.Fatal("fn ran while the handler was running")
	default:
	}
	calls := h.calls.Load()
	_, err = sockWrite(b, []byte("more"))
	require.NoError(t, err)
	close(h.release)
	waitCh(t, fnDone, "fn after the handler")
	require.False(t, ranDuringHandler.Load())
	barrier(t, f.Loop())
	require.Equal(t, calls, h.calls.Load(), "a handler call started after Unregister")
	require.ErrorIs(t, f.Unregister(), ErrNotRegistered)
	requireNoWaiters(t, e)
}

// TestPortableResetOnClose: SO_LINGER {1, 0} and UnregisterCloseFunc closing the owner's
// descriptor reset the connection: on Unix the engine's duplicate is closed first, on
// Windows there is none, so the owner's close drops the last reference and the peer sees
// a reset, not a FIN.
func TestPortableResetOnClose(t *testing.T) {
	e := newPortableEngine(t, Config{Loops: 1})
	a, b := tcpPair(t)
	defer sockClose(b)
	f, err := e.Register(a, newRecorder(a))
	require.NoError(t, err)
	require.NoError(t, setLingerZero(a))
	require.NoError(t, f.UnregisterCloseFunc(func() { assert.NoError(t, sockClose(a)) }))
	require.NoError(t, peerReset(b), "the peer sees a reset")
}

// TestPortableCloseStopsAllGoroutines: Close deregisters what is left (the owners'
// descriptors stay open), runs accepted posts once, drops timers, and leaves no
// goroutine behind; Close from a loop returns without waiting.
func TestPortableCloseStopsAllGoroutines(t *testing.T) {
	e, err := New(Config{Loops: 3, Portable: true})
	require.NoError(t, err)
	var fds []int
	var regs []*FD
	for i := 0; i < 4; i++ {
		a, b := tcpPair(t)
		fds = append(fds, a, b)
		f, err := e.Register(a, newRecorder(a))
		require.NoError(t, err)
		regs = append(regs, f)
	}
	defer func() {
		for _, fd := range fds {
			sockClose(fd)
		}
	}()
	require.Equal(t, int64(4*waitersPerFD), e.Stats().Waiters)
	l := regs[0].Loop()
	tm := l.AfterFunc(time.Hour, func() {})
	var ran atomic.Bool
	require.True(t, l.Post(func() { ran.Store(true) }))
	done := make(chan struct{})
	require.True(t, e.Loops()[1].Post(func() {
		assert.NoError(t, e.Close(), "Close from a loop")
		close(done)
	}))
	waitCh(t, done, "Close from a loop")
	require.NoError(t, e.Close())
	goleak.VerifyNone(t)
	require.True(t, ran.Load())
	require.False(t, tm.Stop())
	require.Zero(t, e.Stats().Registered)
	requireNoWaiters(t, e)
	for _, f := range regs {
		require.ErrorIs(t, f.Unregister(), ErrNotRegistered)
	}
	_, err = e.Register(fds[1], newRecorder(fds[1]))
	require.ErrorIs(t, err, ErrClosed)
	require.False(t, l.Post(func() {}))
	_, err = sockWrite(fds[1], []byte("x"))
	require.NoError(t, err, "the engine never closes an owner's descriptor")
}

// TestPortableChurn: registrations come and go from several goroutines while data
// flows; every UnregisterCloseFunc fn runs once, no handler runs after its fn, and the
// waiters return to zero.
func TestPortableChurn(t *testing.T) {
	e := newPortableEngine(t, Config{Loops: 2})
	workers, rounds := 4, 50
	if testing.Short() {
		rounds = 15
	}
	var late, reads, fns atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				a, b := tcpPair(t)
				g := &guarded{fd: a, late: &late, reads: &reads}
				f, err := e.Register(a, g)
				if !assert.NoError(t, err) {
					sockClose(a)
					sockClose(b)
					return
				}
				_, _ = sockWrite(b, []byte("ping"))
				assert.NoError(t, f.UnregisterCloseFunc(func() {
					g.closed.Store(true)
					fns.Add(1)
					assert.NoError(t, sockClose(a))
				}))
				sockClose(b)
			}
		}()
	}
	wg.Wait()
	for _, l := range e.Loops() {
		barrier(t, l)
	}
	require.Equal(t, int64(workers*rounds), fns.Load(), "every fn ran once")
	require.Zero(t, late.Load(), "a handler ran after its fn")
	requireNoWaiters(t, e)
	require.Zero(t, e.Stats().Registered)
	t.Logf("registrations=%d bytes read before close=%d", workers*rounds, reads.Load())
}

// TestPortablePanicCounted: a panicking handler is recovered on the loop and counted.
func TestPortablePanicCounted(t *testing.T) {
	var got atomic.Value
	e := newPortableEngine(t, Config{Loops: 1, OnPanic: func(v any) { got.Store(v) }})
	l := e.Loops()[0]
	require.True(t, l.Post(func() { panic(errors.New("post panic")) }))
	barrier(t, l)
	require.Equal(t, uint64(1), e.Stats().Panics)
	require.NotNil(t, got.Load())
}

// requireNoWaiters waits (bounded) for every waiter to end: Unregister returns once they
// left the poller, their goroutines exit right after.
func requireNoWaiters(t *testing.T, e *Engine) {
	t.Helper()
	require.Eventually(t, func() bool { return e.Stats().Waiters == 0 }, hangGuard, time.Millisecond,
		"waiters left after Unregister: %d", e.Stats().Waiters)
}
