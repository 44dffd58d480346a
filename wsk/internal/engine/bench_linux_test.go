//go:build linux

package engine

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func BenchmarkPost(b *testing.B) {
	e := newEngine(b, Config{Loops: 1})
	l := e.Loops()[0]
	var n int // loop-owned
	fn := func() { n++ }
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for !l.Post(fn) {
			runtime.Gosched()
		}
	}
	barrier(b, l)
	b.StopTimer()
	require.Equal(b, b.N, n)
}

// echoHandler echoes whatever it reads, draining to EAGAIN.
type echoHandler struct {
	fd  int
	buf [512]byte
}

func (h *echoHandler) Readable() {
	for {
		n, err := unix.Read(h.fd, h.buf[:])
		if n <= 0 || err != nil {
			return
		}
		// 64 B messages on loopback: the send buffer never fills here.
		_, _ = unix.Write(h.fd, h.buf[:n])
	}
}

func (h *echoHandler) Writable() {}

// BenchmarkEchoRoundTrip sends 64 B from a blocking client and waits for
// the echo produced by a handler on the loop.
func BenchmarkEchoRoundTrip(b *testing.B) {
	e := newEngine(b, Config{Loops: 1})
	srv, cli := tcpPair(b)
	defer unix.Close(srv)
	defer unix.Close(cli)
	require.NoError(b, unix.SetNonblock(cli, false))
	f, err := e.Register(srv, &echoHandler{fd: srv})
	require.NoError(b, err)
	defer f.Unregister()
	msg := make([]byte, 64)
	in := make([]byte, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := unix.Write(cli, msg); err != nil {
			b.Fatal(err)
		}
		for got := 0; got < len(in); {
			n, err := unix.Read(cli, in[got:])
			if err != nil || n == 0 {
				b.Fatal(err)
			}
			got += n
		}
	}
}
