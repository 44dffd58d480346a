//go:build unix

package wsk

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
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

// isReset reports ECONNRESET or EPIPE (a reset in CLOSE_WAIT is reported as EPIPE).
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// soError reads SO_ERROR of the peer's socket (non-zero after a reset it has not
// reported yet).
func soError(t *testing.T, c net.Conn) int {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)
	var v int
	require.NoError(t, rc.Control(func(fd uintptr) {
		v, err = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
	}))
	require.NoError(t, err)
	return v
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
