package netconn_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
	"github.com/gowsk/gowsk/wsk/netconn"
)

// TestWriteDeadlineKeepsStream: a write deadline that cuts a large Write short reports
// the bytes the kernel took, and the stream goes on intact: the peer reads exactly the
// first n bytes, then the rest written afterwards (the cancelled send kept its count:
// wsk.SOCancelKeepsSent, no reset).
func TestWriteDeadlineKeepsStream(t *testing.T) {
	a, peer := gowskNetPair(t)
	want := make([]byte, 16<<20)
	for k := range want {
		want[k] = byte(k * 7)
	}
	require.NoError(t, a.SetWriteDeadline(time.Now().Add(50*time.Millisecond)))
	n, err := a.Write(want)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	require.Less(t, n, len(want))
	t.Logf("the deadline cut the write at %d of %d bytes", n, len(want))
	require.NoError(t, a.SetWriteDeadline(time.Time{}))
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(peer)
		got <- b
	}()
	_, err = a.Write(want[n:])
	require.NoError(t, err)
	require.NoError(t, a.CloseWrite())
	b := <-got
	require.Equal(t, len(want), len(b))
	require.True(t, bytes.Equal(want, b))
}

// TestProviderShutdown: a Provider around the user's own registration; Shutdown resets
// what is still open (a listener, a connection and a UDP socket), waits for it, and then
// the registration deregisters with nothing left.
func TestProviderShutdown(t *testing.T) {
	reg, st := wsk.Register(&wsk.ClientNPI{Dispatch: newClientDispatch()})
	require.Equal(t, irp.Success, st)
	p, err := netconn.New(reg, netconn.Options{CloseTimeout: time.Second, MaxClosing: 16})
	require.NoError(t, err)
	require.Same(t, reg, p.Registration())
	ln, err := p.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	pc, err := p.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	peer, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer peer.Close()
	c, err := ln.Accept()
	require.NoError(t, err)
	readErr := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		readErr <- err
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, p.Shutdown(ctx))
	require.ErrorIs(t, <-readErr, net.ErrClosed)
	_, err = ln.Accept()
	require.ErrorIs(t, err, net.ErrClosed)
	_, _, err = pc.ReadFrom(make([]byte, 1))
	require.ErrorIs(t, err, net.ErrClosed)
	_, err = p.Listen("tcp", "127.0.0.1:0")
	require.ErrorIs(t, err, netconn.ErrShutdown)
	s := p.Stats()
	require.Zero(t, s.WSK.SocketsOpen)
	require.Equal(t, uint64(1), s.Linger.ResetHard)
	require.NoError(t, p.Shutdown(ctx), "a second Shutdown is a no-op")
	reg.Deregister()
}
