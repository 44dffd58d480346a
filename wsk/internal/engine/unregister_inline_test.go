//go:build unix || windows

package engine

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hupRecorder is a recorder that also implements HangupHandler.
type hupRecorder struct {
	*recorder
	hangups atomic.Int64
}

func (h *hupRecorder) ReadableHangup() {
	h.hangups.Add(1)
	h.recorder.Readable()
}

// registerIdle registers a recorder for fd and waits until its first report (the
// Writable of a connected socket) has been handled: no handler of the FD runs afterwards
// until new readiness comes.
func registerIdle(t *testing.T, e *Engine, fd int) (*FD, *recorder) {
	t.Helper()
	r := newRecorder(fd)
	f := registerRec(t, e, r)
	waitCh(t, r.writeCh, "initial Writable")
	barrier(t, f.Loop())
	return f, r
}

// TestUnregisterFuncInlineWhenIdle: with no handler of the FD running, UnregisterFunc
// runs fn on the caller before it returns (no hand-off to the loop); from inside the
// FD's own handler, fn runs only after that handler returned, on the loop.
func TestUnregisterFuncInlineWhenIdle(t *testing.T) {
	e := newEngine(t, Config{Loops: 1})

	a, b := tcpPair(t)
	defer sockClose(b)
	f, _ := registerIdle(t, e, a)
	ran := false
	require.NoError(t, f.UnregisterFunc(func() {
		ran = true
		assert.NoError(t, sockClose(a))
	}))
	require.True(t, ran, "idle FD: fn ran inline")

	c, d := tcpPair(t)
	defer sockClose(d)
	rec := newRecorder(c)
	var inHandler, ranInside atomic.Bool
	fnDone := make(chan struct{})
	var g atomic.Pointer[FD]
	rec.onRead = func() {
		if rec.bytes.Load() == 0 {
			return
		}
		inHandler.Store(true)
		assert.NoError(t, g.Load().UnregisterFunc(func() {
			ranInside.Store(inHandler.Load())
			assert.NoError(t, sockClose(c))
			close(fnDone)
		}))
		inHandler.Store(false)
	}
	gf, err := e.Register(c, rec)
	require.NoError(t, err)
	g.Store(gf)
	_, err = sockWrite(d, []byte("x"))
	require.NoError(t, err)
	waitCh(t, fnDone, "UnregisterFunc from the handler")
	require.False(t, ranInside.Load(), "fn ran while the FD's handler was still running")
}

// TestHangupHandler: an edge that carries the peer's FIN calls ReadableHangup; a plain
// data edge calls Readable (epoll and Windows, where POLLHUP says it; the portable engine
// on Unix reports every read edge as one that may carry a hang-up).
func TestHangupHandler(t *testing.T) {
	e := newEngine(t, Config{Loops: 1})
	a, b := tcpPair(t)
	h := &hupRecorder{recorder: newRecorder(a)}
	f := registerHandler(t, e, h.recorder, h)
	_, err := sockWrite(b, []byte("data"))
	require.NoError(t, err)
	waitCh(t, h.readCh, "data edge")
	if e.Portable() && runtime.GOOS != "windows" {
		// The poller does not tell a hang-up from data: every read edge is reported as
		// one that may carry it.
		require.Equal(t, h.readable.Load(), h.hangups.Load(), "portable: every read edge is ReadableHangup")
	} else {
		require.Zero(t, h.hangups.Load(), "a data edge is not a hang-up")
	}
	require.NoError(t, sockClose(b))
	require.Eventually(t, func() bool { return h.eof.Load() }, hangGuard, time.Millisecond)
	require.Positive(t, h.hangups.Load(), "the FIN came with EPOLLRDHUP (POLLHUP)")
	require.NoError(t, f.UnregisterFunc(func() { assert.NoError(t, sockClose(a)) }))
}

// TestUnregisterCloseFunc: the variant that leaves the epoll set to close(2) runs fn
// like UnregisterFunc, no handler is called afterwards, and the number can be
// registered again at once.
func TestUnregisterCloseFunc(t *testing.T) {
	e := newEngine(t, Config{Loops: 1})
	a, b := tcpPair(t)
	defer sockClose(b)
	f, rec := registerIdle(t, e, a)
	ran := false
	require.NoError(t, f.UnregisterCloseFunc(func() {
		ran = true
		assert.NoError(t, sockClose(a))
	}))
	require.True(t, ran)
	require.ErrorIs(t, f.Unregister(), ErrNotRegistered)
	calls := rec.readable.Load() + rec.writable.Load()
	_, _ = sockWrite(b, []byte("late")) // may fail: a is gone
	c, d := tcpPair(t)
	defer sockClose(d)
	rec2 := newRecorder(c)
	g := registerRec(t, e, rec2) // the number, possibly reused, registers again
	_, err := sockWrite(d, []byte("x"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return rec2.bytes.Load() == 1 }, hangGuard, time.Millisecond)
	barrier(t, f.Loop())
	require.Equal(t, calls, rec.readable.Load()+rec.writable.Load(), "no handler call after UnregisterCloseFunc")
	require.EqualValues(t, 1, e.Stats().Registered)
	require.NoError(t, g.UnregisterCloseFunc(func() { assert.NoError(t, sockClose(c)) }))
}
