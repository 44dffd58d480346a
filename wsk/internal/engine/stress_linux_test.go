//go:build linux

package engine

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestStressConcurrentPost(t *testing.T) {
	e := newEngine(t, Config{Loops: 3, MaxPosted: 16})
	loops := e.Loops()
	producers, perProducer := 8, 20000
	if testing.Short() {
		perProducer = 2000
	}
	var submitted, ran, refused atomic.Int64
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := loops[p%len(loops)]
			// Per-producer FIFO: each loop must see this producer's
			// sequence in order.
			last := -1
			for i := 0; i < perProducer; i++ {
				for !l.Post(func() {
					assert.Equal(t, last+1, i, "posts from one producer ran out of order")
					last = i
					ran.Add(1)
				}) {
					refused.Add(1)
					// Full queue: the bound held; let the loop drain.
					barrierSpin(l)
				}
				submitted.Add(1)
			}
		}()
	}
	wg.Wait()
	for _, l := range loops {
		barrier(t, l)
	}
	require.Equal(t, submitted.Load(), ran.Load())
	require.Equal(t, int64(producers*perProducer), ran.Load())
	t.Logf("submitted=%d refused(queue full)=%d", submitted.Load(), refused.Load())
}

// barrierSpin yields until the loop has made progress, without posting. It sleeps
// through the Go scheduler (time.Sleep), as a real producer would block: a raw nanosleep
// would hold the processor, and the loops, which park in Go's network poller between
// turns, would then wait for the scheduler's next poll.
func barrierSpin(l *Loop) {
	for {
		if n, bound := l.queued(); n < bound {
			return
		}
		time.Sleep(10 * time.Microsecond)
	}
}

func TestStressRegisterUnregisterChurn(t *testing.T) {
	e := newEngine(t, Config{Loops: 2})
	rounds := 300
	if testing.Short() {
		rounds = 50
	}
	var late, reads, closedCount atomic.Int64
	var wg sync.WaitGroup
	for r := 0; r < rounds; r++ {
		a, b := tcpPair(t)
		ga := &guarded{fd: a, late: &late, reads: &reads}
		gb := &guarded{fd: b, late: &late, reads: &reads}
		fa, err := e.Register(a, ga)
		require.NoError(t, err)
		fb, err := e.Register(b, gb)
		require.NoError(t, err)
		_, err = unix.Write(a, []byte("ping"))
		require.NoError(t, err)
		_, err = unix.Write(b, []byte("pong"))
		require.NoError(t, err)
		// Unregister while events may be in flight, closing on the loop.
		for _, p := range []struct {
			f *FD
			g *guarded
		}{{fa, ga}, {fb, gb}} {
			wg.Add(1)
			require.NoError(t, p.f.UnregisterFunc(func() {
				defer wg.Done()
				p.g.closed.Store(true)
				assert.NoError(t, unix.Close(p.g.fd))
				closedCount.Add(1)
			}))
		}
	}
	wg.Wait()
	for _, l := range e.Loops() {
		barrier(t, l)
	}
	require.Equal(t, int64(2*rounds), closedCount.Load(), "every UnregisterFunc ran once")
	require.Equal(t, int64(0), late.Load(), "handler called after UnregisterFunc closed its fd")
	require.Equal(t, int64(0), e.Stats().Registered)
	t.Logf("bytes read before unregister: %d, stale events: %d", reads.Load(), e.Stats().StaleEvents)
}

// Close racing with producers: every Post that returned true runs exactly
// once, and every UnregisterFunc callback runs exactly once.
func TestStressCloseRacesPostAndUnregister(t *testing.T) {
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	for r := 0; r < rounds; r++ {
		e, err := New(Config{Loops: 2, MaxPosted: 64})
		require.NoError(t, err)
		a, b := tcpPair(t)
		f, err := e.Register(a, newRecorder(a))
		require.NoError(t, err)
		var accepted, ran, unregRan atomic.Int64
		var wg sync.WaitGroup
		for p := 0; p < 4; p++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l := e.Loops()[p%2]
				for i := 0; i < 500; i++ {
					if l.Post(func() { ran.Add(1) }) {
						accepted.Add(1)
					}
					l.AfterFunc(0, func() {}).Stop()
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, e.Close())
		}()
		assert.NotPanics(t, func() {
			_ = f.UnregisterFunc(func() { unregRan.Add(1) })
		})
		wg.Wait()
		require.NoError(t, e.Close())
		require.Equal(t, accepted.Load(), ran.Load(), "round %d", r)
		require.Equal(t, int64(1), unregRan.Load())
		unix.Close(a)
		unix.Close(b)
	}
}
