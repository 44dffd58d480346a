//go:build unix || windows

package wsk

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/internal/sock"
)

// peer is a plain net listener on loopback with the one connection it accepted.
type peer struct {
	ln   net.Listener
	conn chan net.Conn
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &peer{ln: ln, conn: make(chan net.Conn, 1)}
	go func() {
		c, err := ln.Accept()
		if err == nil {
			p.conn <- c
		}
		close(p.conn)
	}()
	t.Cleanup(func() { ln.Close() })
	return p
}

func (p *peer) addr() netip.AddrPort { return p.ln.Addr().(*net.TCPAddr).AddrPort() }

func (p *peer) accept(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c, ok := <-p.conn:
		require.True(t, ok, "accept failed")
		t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(waitLimit):
		require.FailNow(t, "no connection accepted")
	}
	return nil
}

// newSocket creates a connection socket (not bound).
func newConnSocket(t *testing.T, npi ProviderNPI, family int) *dispatch.Socket {
	t.Helper()
	io := do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, family, SockStream, IPProtoTCP, dispatch.ConnectionSocket, nil, nil, i)
	})
	require.Equal(t, irp.Success, io.Status)
	ws, ok := io.Object.(*dispatch.Socket)
	require.True(t, ok)
	return ws
}

// connect makes a connected connection socket and returns it with the peer's side.
func connect(t *testing.T, npi ProviderNPI) (*dispatch.Socket, net.Conn) {
	t.Helper()
	p := newPeer(t)
	ws := newConnSocket(t, npi, AFInet)
	require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Connection().Bind(ws, netip.AddrPort{}, 0, i)
	}).Status)
	require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Connection().Connect(ws, p.addr(), 0, i)
	}).Status)
	return ws, p.accept(t)
}

func closeSocketSync(t *testing.T, ws *dispatch.Socket) {
	t.Helper()
	io := do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Basic().CloseSocket(ws, i) })
	require.Equal(t, irp.Success, io.Status)
}

func send(t *testing.T, ws *dispatch.Socket, b []byte) *pcall {
	t.Helper()
	buf := dispatch.MakeBuf(b)
	return start(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Connection().Send(ws, &buf, 0, i) })
}

func recv(t *testing.T, ws *dispatch.Socket, b []byte, flags dispatch.Flags) *pcall {
	t.Helper()
	buf := dispatch.MakeBuf(b)
	return start(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Connection().Receive(ws, &buf, flags, i) })
}

func disconnect(t *testing.T, ws *dispatch.Socket, buf *dispatch.Buf, flags dispatch.Flags) *pcall {
	t.Helper()
	return start(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Connection().Disconnect(ws, buf, flags, i) })
}

// peerResult is what the net peer observed when reading to the end.
type peerResult struct {
	data  []byte
	reset bool // ECONNRESET or EPIPE (a reset in CLOSE_WAIT is reported as EPIPE)
	eof   bool
}

// requireAbortReset requires that the peer c of ws, which the provider aborted (abortive
// disconnect, a panicking callback, a torn send), sees a reset. Where the OS resets an
// open connection at once (resetAtAbort) c is read now. Elsewhere (Windows, the BSDs) the
// RST goes out when ws's descriptor closes: the call waits until the provider has aborted
// ws, and c is read by the returned function, which the test calls once it closed ws
// (it does nothing where c was read already).
func requireAbortReset(t *testing.T, ws *dispatch.Socket, c net.Conn, msg string) (afterClose func()) {
	t.Helper()
	if resetAtAbort {
		require.True(t, readAll(t, c).reset, msg)
		return func() {}
	}
	s := sockOf(ws)
	deadline := time.Now().Add(waitLimit)
	for {
		s.mu.Lock()
		aborted := s.state.has(stAborted)
		s.mu.Unlock()
		if aborted {
			break
		}
		require.True(t, time.Now().Before(deadline), "the socket was never aborted")
		time.Sleep(time.Millisecond)
	}
	return func() {
		t.Helper()
		require.True(t, readAll(t, c).reset, "%s (at the close)", msg)
	}
}

// readAll reads until EOF or an error.
func readAll(t *testing.T, c net.Conn) peerResult {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(waitLimit)))
	var r peerResult
	b := make([]byte, 4096)
	for {
		n, err := c.Read(b)
		r.data = append(r.data, b[:n]...)
		switch {
		case err == nil:
			continue
		case errors.Is(err, io.EOF) && pollsReset(c):
			r.reset = true // Wine: peer_windows_test.go
		case errors.Is(err, io.EOF):
			r.eof = true
		case isReset(err):
			r.reset = true
		default:
			require.NoError(t, err)
		}
		return r
	}
}

// rlDialAccepted connects a fresh event-capable connection socket with context ctx and
// client table cd to ln and returns it with the accepted peer.
func rlDialAccepted(t *testing.T, npi ProviderNPI, ln net.Listener, ctx any, cd *dispatch.ClientConnectionDispatch) (*dispatch.Socket, net.Conn) {
	t.Helper()
	io := do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, AFInet, SockStream, IPProtoTCP, dispatch.ConnectionSocket, ctx, cd, i)
	})
	require.Equal(t, irp.Success, io.Status)
	ws := io.Object.(*dispatch.Socket)
	require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Connection().Bind(ws, netip.AddrPort{}, 0, i)
	}).Status)
	to := ln.Addr().(*net.TCPAddr).AddrPort()
	require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Connection().Connect(ws, to, 0, i)
	}).Status)
	c, err := ln.Accept()
	require.NoError(t, err)
	return ws, c
}

// waitInput waits until fd has bytes to read (its receive queue is not empty).
func waitInput(t *testing.T, fd int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		n, err := sock.ReceiveQueue(fd)
		require.NoError(t, err)
		if n > 0 {
			return
		}
		require.True(t, time.Now().Before(deadline), "no input arrived")
		time.Sleep(time.Millisecond)
	}
}
