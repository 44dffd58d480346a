package netconn_test

import (
	"context"
	"io"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/wsk"
	"github.com/gowsk/gowsk/wsk/netconn"
)

// churnCycles is 100k dial/serve/close cycles without the race detector and outside
// -short; 5k otherwise (the race detector makes each cycle some ten times dearer).
func churnCycles() int {
	if testing.Short() || raceEnabled {
		return 5000
	}
	return 100000
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// TestChurn: many dial → request → reply → close cycles on a Provider of its own, 8 at
// a time; the server closes first (the background graceful close), the client after
// the server's EOF. At the end the goroutines, the descriptors and the wsk and linger
// counters are back where they started, and every close was graceful.
func TestChurn(t *testing.T) {
	baseG, baseFD := runtime.NumGoroutine(), openFDs(t)
	reg, st := wsk.Register(&wsk.ClientNPI{Dispatch: newClientDispatch()}, wsk.WithLoops(2))
	require.Equal(t, 0, int(st))
	p, err := netconn.New(reg, netconn.Options{})
	require.NoError(t, err)
	base := reg.Stats()

	ln, err := p.ListenTCP("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cycles := churnCycles()
	var served sync.WaitGroup
	served.Add(1)
	go func() {
		defer served.Done()
		var conns sync.WaitGroup
		defer conns.Wait()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				b := make([]byte, 1)
				if _, err := io.ReadFull(c, b); assert.NoError(t, err) {
					_, err = c.Write(b)
					assert.NoError(t, err)
				}
				assert.NoError(t, c.Close())
			}()
		}
	}()
	start := time.Now()
	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := make([]byte, 1)
			for k := w; k < cycles; k += workers {
				c, err := p.Dial("tcp", ln.Addr().String())
				if !assert.NoError(t, err) {
					return
				}
				_, err = c.Write([]byte{byte(k)})
				assert.NoError(t, err)
				_, err = io.ReadFull(c, b)
				assert.NoError(t, err)
				_, err = c.Read(b)
				assert.Equal(t, io.EOF, err)
				assert.NoError(t, c.Close())
			}
		}()
	}
	wg.Wait()
	require.NoError(t, ln.Close())
	served.Wait()
	t.Logf("%d cycles in %v", cycles, time.Since(start))

	require.Eventually(t, func() bool { return p.Stats().Linger.Closing == 0 }, 30*time.Second, time.Millisecond)
	s := p.Stats()
	t.Logf("stats: %+v", s)
	require.Equal(t, uint64(2*cycles), s.ConnsOpened)
	require.Equal(t, uint64(2*cycles), s.ConnsClosed)
	require.Equal(t, uint64(2*cycles), s.Linger.Graceful, "every close graceful: no reset")
	require.Equal(t, base.SocketsOpen, s.WSK.SocketsOpen)
	require.Equal(t, base.IRPsPending, s.WSK.IRPsPending)
	require.Equal(t, s.WSK.SocketsCreated, s.WSK.SocketsClosed)
	require.Zero(t, s.WSK.ResetsSent)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, p.Shutdown(ctx))
	reg.Deregister()
	// A polling loop of our own: testify's Eventually runs its condition on a goroutine.
	for k := 0; k < 10000 && runtime.NumGoroutine() > baseG; k++ {
		time.Sleep(time.Millisecond)
	}
	if runtime.NumGoroutine() > baseG {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines not back at the baseline %d:\n%s", baseG, buf[:runtime.Stack(buf, true)])
	}
	require.Eventually(t, func() bool { return openFDs(t) <= baseFD }, 10*time.Second, time.Millisecond,
		"descriptors back at the baseline")
	t.Logf("goroutines %d (baseline %d), descriptors %d (baseline %d)", runtime.NumGoroutine(), baseG, openFDs(t), baseFD)
}
