package netconn_test

import (
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHotPathAllocs: a Write and a Read that complete at once (the kernel takes the
// bytes, the data is waiting) allocate nothing.
func TestHotPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	a, b := gowskPair(t)
	msg := make([]byte, 64)
	buf := make([]byte, 64)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := a.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(b, buf); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("allocations per Write+Read: %v", allocs)
	require.Zero(t, allocs)
}

// BenchmarkPingPong is one 64-byte request and its echo per iteration between two
// gowsk conns: each Read waits for its data (the pending path: IRP, completion, wake).
func BenchmarkPingPong(b *testing.B) {
	c1, c2 := gowskPair(b)
	benchPingPong(b, c1, c2)
}

// BenchmarkPingPongStdlib is BenchmarkPingPong on package net, for comparison.
func BenchmarkPingPongStdlib(b *testing.B) {
	c1, c2 := pair(b, net.Listen, net.Dial)
	benchPingPong(b, c1, c2)
}

func benchPingPong(b *testing.B, c1, c2 net.Conn) {
	go func() {
		buf := make([]byte, 64)
		for {
			if _, err := io.ReadFull(c2, buf); err != nil {
				return
			}
			if _, err := c2.Write(buf); err != nil {
				return
			}
		}
	}()
	msg := make([]byte, 64)
	buf := make([]byte, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c1.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c1, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrite and BenchmarkRead measure one call each on the hot path.
func BenchmarkWrite(b *testing.B) {
	c1, c2 := gowskPair(b)
	go io.Copy(io.Discard, c2)
	msg := make([]byte, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c1.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	c1, c2 := gowskPair(b)
	go func() {
		msg := make([]byte, 64)
		for {
			if _, err := c2.Write(msg); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c1.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}
