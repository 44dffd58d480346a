package netconn_test

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/netconn"
)

// TestErrorShape: every error is a *net.OpError with Op, Net, Source and Addr, a
// timeout matches os.ErrDeadlineExceeded with Timeout() true, and the conn stays usable.
func TestErrorShape(t *testing.T) {
	a, b := gowskPair(t)
	require.NoError(t, a.SetReadDeadline(time.Now().Add(-time.Second)))
	n, err := a.Read(make([]byte, 8))
	require.Zero(t, n)
	var oe *net.OpError
	require.True(t, errors.As(err, &oe))
	require.Equal(t, "read", oe.Op)
	require.Equal(t, "tcp", oe.Net)
	require.Equal(t, a.LocalAddr(), oe.Source)
	require.Equal(t, a.RemoteAddr(), oe.Addr)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	ne, ok := err.(net.Error) // a direct assertion, as nettest and net/http do
	require.True(t, ok)
	require.True(t, ne.Timeout())

	require.NoError(t, a.SetReadDeadline(time.Time{}))
	_, err = b.Write([]byte("ok"))
	require.NoError(t, err)
	buf := make([]byte, 2)
	_, err = io.ReadFull(a, buf)
	require.NoError(t, err)
	require.Equal(t, "ok", string(buf))

	_, ok = a.LocalAddr().(*net.TCPAddr)
	require.True(t, ok)
	_, ok = a.RemoteAddr().(*net.TCPAddr)
	require.True(t, ok)
	require.NotNil(t, a.Socket())
}

// TestDeadlineMovedWhilePending: a deadline set while a Read pends applies to it, and
// one pushed out while it pends lets it finish with data.
func TestDeadlineMovedWhilePending(t *testing.T) {
	a, b := gowskPair(t)
	errc := make(chan error, 1)
	go func() {
		_, err := a.Read(make([]byte, 8))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, a.SetReadDeadline(time.Now().Add(30*time.Millisecond)))
	require.ErrorIs(t, <-errc, os.ErrDeadlineExceeded)

	require.NoError(t, a.SetReadDeadline(time.Now().Add(50*time.Millisecond)))
	got := make(chan int, 1)
	go func() {
		n, err := a.Read(make([]byte, 8))
		if err != nil {
			n = -1
		}
		got <- n
	}()
	require.NoError(t, a.SetReadDeadline(time.Now().Add(time.Hour)))
	time.Sleep(100 * time.Millisecond) // past the first deadline
	_, err := b.Write([]byte("late"))
	require.NoError(t, err)
	require.Equal(t, 4, <-got)
}

// TestResetMatchesECONNRESET: a peer's reset reaches Read as an error matching
// syscall.ECONNRESET, inside a *net.OpError.
func TestResetMatchesECONNRESET(t *testing.T) {
	a, peer := gowskNetPair(t)
	require.NoError(t, peer.(*net.TCPConn).SetLinger(0))
	require.NoError(t, peer.Close())
	_, err := a.Read(make([]byte, 8))
	require.ErrorIs(t, err, syscall.ECONNRESET)
	var oe *net.OpError
	require.True(t, errors.As(err, &oe))
	var se *irp.StatusError
	require.True(t, errors.As(err, &se), "the NTSTATUS (and its WSA code) stays reachable")
}

// TestEOFIsBare: the peer's FIN is io.EOF itself, never wrapped.
func TestEOFIsBare(t *testing.T) {
	a, peer := gowskNetPair(t)
	require.NoError(t, peer.Close())
	_, err := a.Read(make([]byte, 8))
	require.True(t, err == io.EOF)
}

// TestCloseUnblocksWrite: a Write blocked on a full send queue returns net.ErrClosed
// at once when the conn is closed.
func TestCloseUnblocksWrite(t *testing.T) {
	a, _ := gowskNetPair(t)
	errc := make(chan error, 1)
	go func() {
		chunk := make([]byte, 1<<20)
		for k := 0; k < 1024; k++ {
			if _, err := a.Write(chunk); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, a.Close())
	select {
	case err := <-errc:
		require.ErrorIs(t, err, net.ErrClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("a blocked Write did not return after Close")
	}
}

// TestTCPOptions: the *net.TCPConn setters servers use.
func TestTCPOptions(t *testing.T) {
	a, _ := gowskPair(t)
	require.NoError(t, a.SetNoDelay(false))
	require.NoError(t, a.SetNoDelay(true))
	require.NoError(t, a.SetKeepAlive(true))
	require.NoError(t, a.SetKeepAlivePeriod(30*time.Second))
	require.NoError(t, a.SetReadBuffer(64<<10))
	require.NoError(t, a.SetWriteBuffer(64<<10))
	require.NoError(t, a.SetLinger(-1))
	require.NoError(t, a.Close())
	require.ErrorIs(t, a.SetNoDelay(true), net.ErrClosed)
	require.ErrorIs(t, a.SetDeadline(time.Now()), net.ErrClosed)
}

// TestCloseReadEOF: CloseRead ends the pending Read with io.EOF.
func TestCloseReadEOF(t *testing.T) {
	a, _ := gowskPair(t)
	errc := make(chan error, 1)
	go func() {
		_, err := a.Read(make([]byte, 8))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, a.CloseRead())
	require.Equal(t, io.EOF, <-errc)
	_, err := a.Read(make([]byte, 8))
	require.Equal(t, io.EOF, err)
}

// TestZeroLength: zero-length Read and Write return at once.
func TestZeroLength(t *testing.T) {
	a, _ := gowskPair(t)
	n, err := a.Read(nil)
	require.Zero(t, n)
	require.NoError(t, err)
	n, err = a.Write(nil)
	require.Zero(t, n)
	require.NoError(t, err)
}

// TestListenerClose: Close unblocks a pending Accept with net.ErrClosed (outermost a
// *net.OpError), and later Accepts fail the same way.
func TestListenerClose(t *testing.T) {
	ln, err := netconn.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() {
		_, err := ln.Accept()
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, ln.Close())
	err = <-errc
	require.ErrorIs(t, err, net.ErrClosed)
	_, ok := err.(*net.OpError)
	require.True(t, ok)
	_, err = ln.Accept()
	require.ErrorIs(t, err, net.ErrClosed)
	require.ErrorIs(t, ln.Close(), net.ErrClosed)
	_, ok = ln.Addr().(*net.TCPAddr)
	require.True(t, ok)
}

// TestAcceptErrorsTemporary: what net/http's and gRPC's accept loops retry. A reset or
// aborted connection and EMFILE are temporary through a direct type assertion to
// interface{ Temporary() bool } (gRPC's), a closed listener is not.
func TestAcceptErrorsTemporary(t *testing.T) {
	type temporary interface{ Temporary() bool }
	mk := func(st irp.Status) error {
		return &net.OpError{Op: "accept", Net: "tcp", Err: netconn.AcceptErr(st)}
	}
	for _, st := range []irp.Status{irp.ConnectionReset, irp.ConnectionAborted, irp.InsufficientResources} {
		err := mk(st)
		te, ok := err.(temporary)
		require.True(t, ok)
		require.True(t, te.Temporary(), "%v", st) //nolint:staticcheck // the loops still call it
	}
	require.ErrorIs(t, mk(irp.InsufficientResources), syscall.EMFILE)
	err := mk(irp.Cancelled)
	require.False(t, err.(temporary).Temporary()) //nolint:staticcheck
	require.ErrorIs(t, err, net.ErrClosed)
}

// TestNetworks: every network name of the issue, and a bad one.
func TestNetworks(t *testing.T) {
	for _, nw := range []string{"tcp", "tcp4", "tcp6"} {
		addr := "127.0.0.1:0"
		if nw == "tcp6" {
			addr = "[::1]:0"
		}
		ln, err := netconn.Listen(nw, addr)
		if nw == "tcp6" && err != nil {
			t.Logf("no IPv6 loopback: %v", err)
			continue
		}
		require.NoError(t, err, nw)
		go func() {
			if c, err := ln.Accept(); err == nil {
				c.Close()
			}
		}()
		c, err := netconn.Dial(nw, ln.Addr().String())
		require.NoError(t, err, nw)
		require.NoError(t, c.Close())
		require.NoError(t, ln.Close())
	}
	_, err := netconn.Listen("unix", "/tmp/x")
	require.Error(t, err)
	_, err = netconn.Dial("tcp", "127.0.0.1:1") // nothing listens on port 1
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
}
