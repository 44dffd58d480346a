package main

import (
	"bytes"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startInProcess runs the named echo server in this process and returns its address
// and a stop function that waits for Serve to return (and fails the test if it does
// not, or returns an error).
func startInProcess(t testing.TB, name string) (string, func()) {
	t.Helper()
	srv, err := lookupServer(name)
	require.NoError(t, err)
	addrCh := make(chan string, 1)
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- srv.Serve("127.0.0.1:0", func(a string) { addrCh <- a }, stop)
	}()
	var addr string
	select {
	case addr = <-addrCh:
	case err := <-done:
		require.FailNow(t, "server exited before ready", "%s: %v", name, err)
	case <-time.After(10 * time.Second):
		require.FailNow(t, "server not ready", name)
	}
	return addr, func() {
		close(stop)
		select {
		case err := <-done:
			require.NoError(t, err, name)
		case <-time.After(15 * time.Second):
			require.FailNow(t, "server did not stop", name)
		}
	}
}

// echoOnce writes p and reads the same number of bytes back.
func echoOnce(c net.Conn, p, in []byte) error {
	if _, err := c.Write(p); err != nil {
		return err
	}
	_, err := io.ReadFull(c, in[:len(p)])
	return err
}

// TestWSKServersEcho drives the gowsk servers in-process: several connections echo
// payloads from 1 byte to 256 KiB (bigger than one receive indication and than the IRP
// server's 4 KiB buffer), half the clients close first (graceful path, the server must
// close cleanly: the client sees EOF, not a reset), and the server is stopped with the
// other half still open (abortive path). goleak (TestMain) checks nothing is left.
func TestWSKServersEcho(t *testing.T) {
	for _, name := range []string{"wsk", "wsk-irp", "wsk-portable", "wsk-p2-2loops"} {
		t.Run(name, func(t *testing.T) {
			addr, stop := startInProcess(t, name)
			const n = 8
			conns := make([]net.Conn, n)
			for k := range conns {
				c, err := net.Dial("tcp", addr)
				require.NoError(t, err)
				conns[k] = c
			}
			in := make([]byte, 256<<10)
			for _, size := range []int{1, 64, 4096, 65536 + 7, 256 << 10} {
				p := bytes.Repeat([]byte{byte(size)}, size)
				for _, c := range conns {
					require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
					require.NoError(t, echoOnce(c, p, in), "size %d", size)
					require.Equal(t, p, in[:size], "size %d", size)
				}
			}
			// A stream much larger than the event server's pend cap, written before it is
			// read back: the server must apply backpressure (DATA_NOT_ACCEPTED, then a
			// zero-length Receive re-arms the events) without losing or reordering a byte.
			big := make([]byte, 4<<20)
			for k := range big {
				big[k] = byte(k * 7)
			}
			c, err := smallRcvBufDialer.Dial("tcp", addr)
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.SetDeadline(time.Now().Add(20*time.Second)))
			wrote := make(chan error, 1)
			go func() {
				_, err := c.Write(big)
				wrote <- err
			}()
			// Read only once the kernel buffers on both sides are surely full, so the
			// server's Send pends and the bytes it keeps receiving pass the pend cap.
			time.Sleep(200 * time.Millisecond)
			got := make([]byte, len(big))
			_, err = io.ReadFull(c, got)
			require.NoError(t, err)
			require.NoError(t, <-wrote)
			require.True(t, bytes.Equal(big, got), "4 MiB stream corrupted")
			if name == "wsk" {
				require.NotZero(t, wskEventPauses.Load(), "the backpressure path never ran")
			}

			// Clean end by the client: the server disconnects gracefully, so the client
			// reads EOF (not ECONNRESET) after half-closing.
			for _, c := range conns[:n/2] {
				require.NoError(t, c.(*net.TCPConn).CloseWrite())
				_, err := c.Read(in[:1])
				assert.Equal(t, io.EOF, err)
				c.Close()
			}
			stop()
			for _, c := range conns[n/2:] {
				_, err := c.Read(in[:1]) // the server closed it: EOF or a reset
				assert.Error(t, err)
				c.Close()
			}
		})
	}
}

// smallRcvBufDialer dials with a 16 KiB receive buffer set before connect (no
// autotuning), so the kernel cannot absorb a large echo on the client's side.
// Shrinking it on an established connection instead stalls loopback TCP for seconds.
var smallRcvBufDialer = net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
	return rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10)
	})
}}

// TestWSKStopWithStuckEchoes: a client sends 3 MiB, half-closes when its Write returns,
// and never reads. The servers' Sends pend (the echo cannot drain), the event server
// also pauses its receive events, or, depending on the kernel's buffer autotuning,
// sees the FIN and disconnects gracefully behind the stuck echoes (stop then cuts the
// Disconnect short). Stopping the server must finish in every case.
func TestWSKStopWithStuckEchoes(t *testing.T) {
	for _, name := range []string{"wsk", "wsk-irp", "wsk-p2-2loops"} {
		t.Run(name, func(t *testing.T) {
			addr, stop := startInProcess(t, name)
			c, err := smallRcvBufDialer.Dial("tcp", addr)
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
			wrote := make(chan error, 1)
			go func() {
				_, err := c.Write(make([]byte, 3<<20))
				if err == nil {
					err = c.(*net.TCPConn).CloseWrite()
				}
				wrote <- err
			}()
			blocked := false
			select {
			case <-wrote:
			case <-time.After(300 * time.Millisecond): // the server paused
				blocked = true
			}
			time.Sleep(100 * time.Millisecond) // let the server take what it will
			stop()
			c.Close()
			if blocked {
				<-wrote // the Write fails once the connection is closed
			}
		})
	}
}

// TestWSKEchoAllocs reports heap allocations per echo round trip (server and client in
// this process; the client's net.Conn Write/ReadFull allocate nothing in steady state).
// It logs the figures and fails only on a gross regression: the provider allocates its
// request record per call, which the servers cannot avoid.
func TestWSKEchoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("measures allocations over many round trips")
	}
	for _, name := range []string{"stdlib", "wsk", "wsk-irp"} {
		addr, stop := startInProcess(t, name)
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		p, in := make([]byte, 64), make([]byte, 64)
		for range 200 { // warm the pools and buffers
			require.NoError(t, echoOnce(c, p, in))
		}
		var failed error
		allocs := testing.AllocsPerRun(2000, func() {
			if err := echoOnce(c, p, in); err != nil && failed == nil {
				failed = err
			}
		})
		require.NoError(t, failed)
		t.Logf("%-8s %.2f allocs per 64 B echo round trip", name, allocs)
		assert.Less(t, allocs, 20.0, name)
		c.Close()
		stop()
	}
}

func benchEcho(b *testing.B, name string) {
	addr, stop := startInProcess(b, name)
	defer stop()
	c, err := net.Dial("tcp", addr)
	require.NoError(b, err)
	defer c.Close()
	p, in := make([]byte, 64), make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		if err := echoOnce(c, p, in); err != nil {
			b.Fatal(err)
		}
	}
}

// Benchmarks of one 64 B round trip through an in-process server, for allocs/op (the
// time is dominated by loopback TCP: use the harness for throughput).
func BenchmarkEchoStdlib(b *testing.B) { benchEcho(b, "stdlib") }
func BenchmarkEchoWSK(b *testing.B)    { benchEcho(b, "wsk") }
func BenchmarkEchoWSKIRP(b *testing.B) { benchEcho(b, "wsk-irp") }

// TestCloseRoundVerifies runs the close suite's round in-process for both rows and
// checks the verification: every pending receive cancelled before the close IRP.
func TestCloseRoundVerifies(t *testing.T) {
	for _, impl := range []string{"wsk", "stdlib", "raw"} {
		for _, k := range []int{1, 100, 2000} {
			res, err := runCloseRound(impl, k, 20*time.Millisecond)
			require.NoError(t, err, "%s K=%d", impl, k)
			require.Zero(t, res.Errors, "%s K=%d", impl, k)
			require.GreaterOrEqual(t, res.Iters, closeMinIters)
			require.Greater(t, res.MedianUs, 0.0)
			if impl == "raw" {
				continue // no IRPs: K does not apply
			}
			// Warm-up included: every receive of every iteration was cancelled.
			require.Equal(t, uint64(k*(res.Iters+1)), res.Cancelled, "%s K=%d", impl, k)
		}
	}
}
