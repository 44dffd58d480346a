//go:build linux

package wsk

// The TESTING.md cases that need many connections (26, 41, 42–44), at the wsk level
// on real loopback TCP. Case number → test(s) covering it:
//
//	26 ServerShutdownWithInflight  TestServerShutdownWithInflight (500 connections
//	                               with -short, 2,000 without; each with a pending receive and
//	                               a pending send; goroutines and descriptors back to baseline)
//	41 PendingIRPQuota             TestPendingIRPQuota (10× the per-socket quota on
//	                               one socket, then the global quota across 40 sockets); also
//	                               TestLimits (socket_test.go)
//	44 EventLoopSurvivesPeerResets TestEventLoopSurvivesPeerResets (200 resetting
//	                               clients with -short, 1,000 without, among echo clients)
//	42, 43                         load_churn_test.go

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// rlOpenFDs counts this process's open descriptors.
func rlOpenFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(ents)
}

// rlSettle waits (bounded) until f reports true, for counts that return to baseline a
// little after the event that frees them (netpoll goroutines, deferred closes).
func rlSettle(f func() bool) bool {
	deadline := time.Now().Add(waitLimit)
	for !f() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// rlSmallWindowDialer dials with a small receive buffer set before connect, so the peer
// advertises a small window and a server's send blocks after a few kilobytes.
var rlSmallWindowDialer = net.Dialer{
	Timeout: waitLimit,
	Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 2048)
		})
		if err != nil {
			return err
		}
		return serr
	},
}

// TESTING.md case 26: a server with n accepted connections, each holding a pending receive and a
// pending send, shuts down: every socket and the listener closed at once, then
// Deregister. Every IRP completes exactly once (CANCELLED), the shutdown finishes, and
// goroutines and descriptors return to their baseline.
func TestServerShutdownWithInflight(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 500
	}
	baseG := runtime.NumGoroutine()
	baseFD := rlOpenFDs(t)

	r, npi := newReg(t)
	ls := newListenSock(t, npi, nil, nil)
	addr := bindListen(t, ls)
	clients := make([]net.Conn, 0, n)
	conns := make([]*dispatch.Socket, 0, n)
	var reqs []*pcall
	for range n {
		a := startAccept(t, ls, nil, nil)
		c, err := rlSmallWindowDialer.Dial("tcp", addr.String())
		require.NoError(t, err)
		clients = append(clients, c)
		io := a.wait()
		require.Equal(t, irp.Success, io.Status)
		ws := io.Object.(*dispatch.Socket)
		conns = append(conns, ws)
		pr := recv(t, ws, make([]byte, 64), 0)
		require.Equal(t, irp.Pending, pr.ret)
		reqs = append(reqs, pr, rlBlockedSend(t, ws))
	}
	pendingAccept := startAccept(t, ls, nil, nil)
	require.Equal(t, irp.Pending, pendingAccept.ret)
	reqs = append(reqs, pendingAccept.pcall)
	require.EqualValues(t, 2*n+1, r.Stats().IRPsPending)

	// Shutdown: every close at once (each returns Pending), then Deregister.
	t0 := time.Now()
	var closes []*pcall
	for _, ws := range append(conns, ls) {
		p := start(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Basic().CloseSocket(ws, i) })
		require.Equal(t, irp.Pending, p.ret)
		closes = append(closes, p)
	}
	for _, p := range closes {
		require.Equal(t, irp.Success, p.wait().Status)
	}
	finish(t, r)
	took := time.Since(t0)
	for _, p := range reqs {
		require.True(t, p.completed())
		require.Equal(t, irp.Cancelled, p.wait().Status)
	}
	st := r.Stats()
	require.EqualValues(t, 2*n+1, st.IRPsCancelled)
	require.EqualValues(t, n+1, st.SocketsClosed)
	t.Logf("server shutdown: %d connections, %d pending IRPs cancelled, closes+Deregister took %v", n, 2*n+1, took)

	// The clients saw their connections reset (unsent data); close them.
	for _, c := range clients {
		c.Close()
	}
	require.True(t, rlSettle(func() bool { return runtime.NumGoroutine() <= baseG }),
		"goroutines %d, baseline %d", runtime.NumGoroutine(), baseG)
	require.True(t, rlSettle(func() bool { return rlOpenFDs(t) <= baseFD }),
		"descriptors %d, baseline %d", rlOpenFDs(t), baseFD)
}

// TESTING.md case 41: receives beyond the quotas are refused with STATUS_INSUFFICIENT_RESOURCES
// (the IRP completed with it, no panic), first 10× the per-socket quota on one socket,
// then the global quota across many sockets; the sockets stay usable.
func TestPendingIRPQuota(t *testing.T) {
	const perSocket, total, socks = 16, 400, 40
	r, npi := newReg(t, WithLimits(Limits{MaxPendingPerSocket: perSocket, MaxPendingTotal: total}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	wss := make([]*dispatch.Socket, socks)
	peers := make([]net.Conn, socks)
	for k := range wss {
		wss[k], peers[k] = rlDialAccepted(t, npi, ln, nil, nil)
		defer peers[k].Close()
	}
	var pending []*pcall
	post := func(ws *dispatch.Socket, count int) (admitted, refused int) {
		for range count {
			p := recv(t, ws, make([]byte, 1), 0)
			switch p.ret {
			case irp.Pending:
				admitted++
				pending = append(pending, p)
			case irp.InsufficientResources:
				refused++
				require.Equal(t, irp.InsufficientResources, p.wait().Status)
			default:
				require.Failf(t, "unexpected status", "%v", p.ret)
			}
		}
		return admitted, refused
	}
	// One socket: 10× its quota.
	a, rf := post(wss[0], 10*perSocket)
	require.Equal(t, perSocket, a)
	require.Equal(t, 9*perSocket, rf)
	// Every socket: 10× its quota; the global bound caps the sum.
	admitted, refused := a, rf
	for _, ws := range wss[1:] {
		a, rf := post(ws, 10*perSocket)
		require.LessOrEqual(t, a, perSocket)
		admitted += a
		refused += rf
	}
	require.Equal(t, total, admitted)
	require.Equal(t, socks*10*perSocket-total, refused)
	require.EqualValues(t, refused, r.Stats().LimitRejections)
	require.EqualValues(t, total, r.Stats().IRPsPending)
	t.Logf("quota: %d receives posted, %d admitted, %d refused with STATUS_INSUFFICIENT_RESOURCES", socks*10*perSocket, admitted, refused)

	// Still usable: a byte completes one receive of socket 0, which frees one global slot
	// that the last socket (under its own quota) can then take.
	writePeer(t, peers[0], "x")
	require.Equal(t, irp.Success, pending[0].wait().Status)
	last := wss[socks-1]
	// The slot is given back just after the completion routine returns: retry briefly.
	var again *pcall
	require.True(t, rlSettle(func() bool {
		again = recv(t, last, make([]byte, 1), 0)
		if again.ret != irp.Pending {
			require.Equal(t, irp.InsufficientResources, again.wait().Status)
			return false
		}
		return true
	}), "a freed global slot was not reusable")
	pending = append(pending[1:], again)
	for _, ws := range wss {
		closeSocketSync(t, ws)
	}
	for _, p := range pending {
		require.Equal(t, irp.Cancelled, p.wait().Status)
	}
	finish(t, r)
	require.EqualValues(t, total, r.Stats().IRPsCancelled)
}

// rlEchoServer is an echo server written the WSK way: an accept IRP chain and, per
// connection, a receive → send → receive chain, all driven from completion routines
// (which never block). A connection is closed when a receive or send fails or the peer
// disconnects.
type rlEchoServer struct {
	t        *testing.T
	ls       *dispatch.Socket
	accepted atomic.Int64
	closed   atomic.Int64
	resets   atomic.Int64 // receives or sends that failed with a reset/abort
	eofs     atomic.Int64 // receives that saw the peer's FIN
	echoed   atomic.Int64 // bytes sent back
}

func (e *rlEchoServer) postAccept() {
	i := irp.Allocate(e.ls.StackSize())
	i.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		if i.IoStatus.Status == irp.Success {
			e.accepted.Add(1)
			c := &rlEchoConn{e: e, ws: i.IoStatus.Object.(*dispatch.Socket), b: make([]byte, 512)}
			c.postRecv()
			e.postAccept()
		} else {
			assert.Contains(e.t, []irp.Status{irp.Cancelled, irp.InvalidHandle}, i.IoStatus.Status)
		}
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	e.ls.Listen().Accept(e.ls, 0, nil, nil, nil, nil, i)
}

type rlEchoConn struct {
	e  *rlEchoServer
	ws *dispatch.Socket
	b  []byte
}

func (c *rlEchoConn) postRecv() {
	i := irp.Allocate(c.ws.StackSize())
	i.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		switch st := i.IoStatus.Status; {
		case st == irp.Success && i.IoStatus.Information > 0:
			c.postSend(int(i.IoStatus.Information))
		case st == irp.Success:
			c.e.eofs.Add(1)
			c.close()
		default:
			c.failed(st)
		}
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	buf := dispatch.MakeBuf(c.b)
	c.ws.Connection().Receive(c.ws, &buf, 0, i)
}

func (c *rlEchoConn) postSend(n int) {
	i := irp.Allocate(c.ws.StackSize())
	i.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		if st := i.IoStatus.Status; st == irp.Success {
			c.e.echoed.Add(int64(n))
			c.postRecv()
		} else {
			c.failed(st)
		}
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	buf := dispatch.MakeBuf(c.b[:n])
	c.ws.Connection().Send(c.ws, &buf, 0, i)
}

func (c *rlEchoConn) failed(st irp.Status) {
	if assert.Contains(c.e.t, []irp.Status{irp.ConnectionReset, irp.ConnectionAborted}, st) {
		c.e.resets.Add(1)
	}
	c.close()
}

func (c *rlEchoConn) close() {
	i := irp.Allocate(c.ws.StackSize())
	i.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		assert.Equal(c.e.t, irp.Success, i.IoStatus.Status)
		c.e.closed.Add(1)
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	assert.Equal(c.e.t, irp.Pending, c.ws.Basic().CloseSocket(c.ws, i))
}

// TESTING.md case 44: many clients reset their connections in the middle of a request
// (SetLinger(0)+Close) while others run echo rounds: the server's loop keeps serving,
// the echo clients are unaffected, no engine panic, and a fresh client is served at the
// end. Both ends of a server connection (reset, clean EOF) are observed.
func TestEventLoopSurvivesPeerResets(t *testing.T) {
	bad, good, rounds := 1000, 16, 50
	if testing.Short() {
		bad, good, rounds = 200, 8, 20
	}
	r, npi := newReg(t)
	ls := newListenSock(t, npi, nil, nil)
	addr := bindListen(t, ls)
	e := &rlEchoServer{t: t, ls: ls}
	e.postAccept()

	echoClient := func(id, rounds int) {
		c, err := net.DialTimeout("tcp", addr.String(), waitLimit)
		if !assert.NoError(t, err) {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * waitLimit))
		got := make([]byte, 32)
		for k := range rounds {
			msg := []byte(fmt.Sprintf("client %4d round %4d ......", id, k))[:32]
			if _, err := c.Write(msg); !assert.NoError(t, err) {
				return
			}
			if _, err := io.ReadFull(c, got); !assert.NoError(t, err) {
				return
			}
			if !assert.True(t, bytes.Equal(msg, got), "echo mismatch") {
				return
			}
		}
	}
	var wg sync.WaitGroup
	for g := range good {
		wg.Add(1)
		go func() { defer wg.Done(); echoClient(g, rounds) }()
	}
	var badDone atomic.Int64
	const resetters = 4
	for w := range resetters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := net.Dialer{Timeout: waitLimit}
			for k := w; k < bad; k += resetters {
				c, err := d.DialContext(context.Background(), "tcp", addr.String())
				if !assert.NoError(t, err) {
					return
				}
				_, _ = c.Write([]byte("half a request"))
				if k%2 == 0 {
					// Give the server a moment to be mid-request (a receive completed
					// or an echo on its way) for half of them.
					time.Sleep(100 * time.Microsecond)
				}
				_ = c.(*net.TCPConn).SetLinger(0)
				_ = c.Close()
				badDone.Add(1)
			}
		}()
	}
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(3 * waitLimit):
		require.FailNow(t, "clients did not finish")
	}
	require.False(t, t.Failed())
	require.EqualValues(t, bad, badDone.Load())
	echoClient(-1, 3) // the server still serves a new client
	require.False(t, t.Failed())

	closeSocketSync(t, ls)
	require.True(t, rlSettle(func() bool { return e.closed.Load() == e.accepted.Load() }),
		"server connections: accepted %d, closed %d", e.accepted.Load(), e.closed.Load())
	finish(t, r)
	st := r.Stats()
	t.Logf("peer resets: %d resetting + %d echo clients; server accepted %d, saw %d resets and %d clean EOFs, echoed %d bytes; engine panics %d",
		bad, good+1, e.accepted.Load(), e.resets.Load(), e.eofs.Load(), e.echoed.Load(), st.EnginePanics)
	require.Zero(t, st.EnginePanics)
	require.Positive(t, e.resets.Load(), "no server connection saw a reset")
	require.Positive(t, e.eofs.Load(), "no server connection saw a clean EOF")
	require.GreaterOrEqual(t, e.echoed.Load(), int64((good*rounds+3)*32))
}
