//go:build unix

package engine

import (
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// hangGuard bounds every wait in these tests; it is a hang detector, not a
// timing assertion.
const hangGuard = 10 * time.Second

// tcpPair returns two connected loopback TCP descriptors, both
// non-blocking, owned by the test (closed at cleanup unless the test
// closes them itself and clears the pointer).
func tcpPair(t testing.TB) (a, b int) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	cc, err := net.Dial("tcp4", ln.Addr().String())
	require.NoError(t, err)
	r := <-ch
	require.NoError(t, r.err)
	a = dupNonblock(t, cc.(*net.TCPConn))
	b = dupNonblock(t, r.c.(*net.TCPConn))
	require.NoError(t, cc.Close())
	require.NoError(t, r.c.Close())
	return a, b
}

func dupNonblock(t testing.TB, c *net.TCPConn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	require.NoError(t, err)
	var fd int
	var derr error
	require.NoError(t, rc.Control(func(s uintptr) {
		fd, derr = unix.Dup(int(s))
	}))
	require.NoError(t, derr)
	unix.CloseOnExec(fd)
	require.NoError(t, unix.SetNonblock(fd, true))
	return fd
}

// recorder is a Handler that counts calls and drains reads until EAGAIN
// (the edge-triggered contract), signalling each Readable/Writable.
type recorder struct {
	fd       int
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
		n, err := unix.Read(r.fd, buf[:])
		if n > 0 {
			r.bytes.Add(int64(n))
			continue
		}
		if err == unix.EAGAIN {
			r.eagains.Add(1)
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
		n, err := unix.Read(g.fd, buf[:])
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
