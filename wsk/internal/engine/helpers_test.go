//go:build unix || windows

package engine

import (
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// hangGuard bounds every wait in these tests; it is a hang detector, not a
// timing assertion.
const hangGuard = 10 * time.Second

// recorder is a Handler that counts calls and drains reads until EAGAIN
// (the edge-triggered contract), rearming the read direction there, and signals each
// Readable/Writable. It never writes, so it never rearms the write direction: on a
// level-triggered poller it sees one Writable.
type recorder struct {
	fd       int
	f        atomic.Pointer[FD] // for the rearm; registerRec sets it
	readable atomic.Int64
	writable atomic.Int64
	bytes    atomic.Int64
	eagains  atomic.Int64
	eof      atomic.Bool
	readCh   chan struct{}
	writeCh  chan struct{}
	onRead   func()
}

func newRecorder(fd int) *recorder {
	return &recorder{fd: fd, readCh: make(chan struct{}, 1024), writeCh: make(chan struct{}, 1024)}
}

func (r *recorder) Readable() {
	r.readable.Add(1)
	var buf [4096]byte
	for {
		n, err := sockRead(r.fd, buf[:])
		if n > 0 {
			r.bytes.Add(int64(n))
			continue
		}
		if wouldBlock(err) {
			r.eagains.Add(1)
			if f := r.f.Load(); f != nil {
				f.RearmRead()
			}
		}
		if n == 0 && err == nil {
			r.eof.Store(true)
		}
		break
	}
	if r.onRead != nil {
		r.onRead()
	}
	select {
	case r.readCh <- struct{}{}:
	default:
	}
}

// registerRec registers r for its descriptor and publishes the FD to it. A handler call
// may come before Register returns, and then finds no FD to rearm with: the RearmRead
// after the publication covers it (a direction still watched costs nothing).
func registerRec(t testing.TB, e *Engine, r *recorder) *FD {
	t.Helper()
	return registerHandler(t, e, r, r)
}

// registerHandler is registerRec for a handler h that wraps r.
func registerHandler(t testing.TB, e *Engine, r *recorder, h Handler) *FD {
	t.Helper()
	f, err := e.Register(r.fd, h)
	require.NoError(t, err)
	r.f.Store(f)
	f.RearmRead()
	return f
}

func (r *recorder) Writable() {
	r.writable.Add(1)
	select {
	case r.writeCh <- struct{}{}:
	default:
	}
}

func waitCh(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(hangGuard):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// barrier waits until every function posted to l before it has run.
func barrier(t testing.TB, l *Loop) {
	t.Helper()
	done := make(chan struct{})
	deadline := time.Now().Add(hangGuard)
	// A full queue refuses the barrier; wait for room (bounded).
	for !l.Post(func() { close(done) }) {
		require.True(t, time.Now().Before(deadline), "loop queue never drained")
		time.Sleep(100 * time.Microsecond)
	}
	waitCh(t, done, "loop barrier")
}

// portableRun is true when GOWSK_ENGINE=portable: the engine tests that take their
// engine from newEngine then run on the portable engine (CI runs the suite once per
// engine); tests of epoll-only details skip (skipOnPortable).
var portableRun = os.Getenv("GOWSK_ENGINE") == "portable"

// newEngine starts an engine for the test (the portable one under GOWSK_ENGINE=portable)
// and closes it at cleanup.
func newEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	if portableRun {
		cfg.Portable = true
	}
	e, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	return e
}

// guarded checks that no handler call happens after its UnregisterFunc
// callback closed the descriptor.
type guarded struct {
	fd     int
	closed atomic.Bool
	late   *atomic.Int64
	reads  *atomic.Int64
}

func (g *guarded) Readable() {
	if g.closed.Load() {
		g.late.Add(1)
		return
	}
	var buf [256]byte
	for {
		n, err := sockRead(g.fd, buf[:])
		if n <= 0 || err != nil {
			break
		}
		g.reads.Add(int64(n))
	}
}

func (g *guarded) Writable() {
	if g.closed.Load() {
		g.late.Add(1)
	}
}
