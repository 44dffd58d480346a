package netconn_test

import (
	"testing"

	"github.com/gowsk/gowsk/wsk/netconn"
)

// BenchmarkUDPWriteToReadFrom is one datagram out and in per iteration (a reference
// figure: the provider's datagram path allocates its per-request records).
func BenchmarkUDPWriteToReadFrom(b *testing.B) {
	a, err := netconn.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	c, err := netconn.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg, buf := make([]byte, 64), make([]byte, 64)
	to := c.LocalAddr()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := a.WriteTo(msg, to); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.ReadFrom(buf); err != nil {
			b.Fatal(err)
		}
	}
}
