//go:build linux

package lsp_test

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/winsock"
	"github.com/gowsk/gowsk/wsk/winsock/lsp"
)

const waitLimit = 15 * time.Second

func layered(t *testing.T) (*winsock.WSA, *winsock.Thread, *lsp.Layer) {
	l := lsp.New()
	w, _, err := winsock.WSAStartup(winsock.MakeWord(2, 2), winsock.WithLayer(l.Provider()))
	require.NoError(t, err)
	th, err := w.OpenThread()
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, w.CloseThread(th))
		assert.NoError(t, w.WSACleanup())
		assert.Zero(t, w.Stats().LeakedHandles, "handles left open")
		assert.Zero(t, w.Stats().UnclosedThreads, "the worker closed its thread context")
		assert.Zero(t, l.Stats().Outstanding)
	})
	return w, th, l
}

func dialPeer(t *testing.T, th *winsock.Thread) (winsock.Socket, *net.TCPConn) {
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	s, err := th.Socket(winsock.AFInet, winsock.SockStream, 0)
	require.NoError(t, err)
	require.NoError(t, th.Connect(s, ln.Addr().(*net.TCPAddr).AddrPort()))
	c, err := ln.AcceptTCP()
	require.NoError(t, err)
	require.NoError(t, c.SetReadBuffer(64<<10))
	t.Cleanup(func() { _ = c.Close() })
	return s, c
}

// The catalog lists the layer's chain on top of the base provider.
func TestCatalogChain(t *testing.T) {
	w, _, l := layered(t)
	ps, err := w.WSAEnumProtocols()
	require.NoError(t, err)
	require.NotEmpty(t, ps)
	for _, p := range ps {
		require.Equal(t, l.CatalogID(), p.CatalogEntryID)
		require.Equal(t, []uint32{l.CatalogID(), 1001}, p.Chain)
	}
}

// Overlapped I/O through the layer: the layer's worker issues the call down and runs
// the lower completion routine; the application's routine runs on the application's
// goroutine, once, at its alertable point.
func TestOverlappedThroughLayer(t *testing.T) {
	_, th, l := layered(t)
	s, peer := dialPeer(t, th)
	var runs atomic.Int32
	var got atomic.Uint32
	buf := make([]byte, 16)
	ov := &winsock.Overlapped{}
	_, err := th.WSARecv(s, [][]byte{buf}, nil, ov, func(e winsock.WSAError, n uint32, _ *winsock.Overlapped, _ uint32) {
		runs.Add(1)
		got.Store(n)
	})
	require.Equal(t, irp.WSAIOPending, winsock.CodeOf(err))
	_, err = peer.Write([]byte("via lsp"))
	require.NoError(t, err)
	deadline := time.Now().Add(waitLimit)
	for runs.Load() == 0 && time.Now().Before(deadline) {
		th.SleepEx(100*time.Millisecond, true)
	}
	require.EqualValues(t, 1, runs.Load())
	require.Equal(t, "via lsp", string(buf[:got.Load()]))
	st := l.Stats()
	require.EqualValues(t, 1, st.WorkerRuns, "the lower completion ran on the worker")
	require.EqualValues(t, 1, st.Completed)
	ev := &winsock.Overlapped{Event: winsock.WSACreateEvent()}
	_, err = th.WSASend(s, [][]byte{[]byte("back")}, 0, ev, nil)
	require.True(t, err == nil || winsock.CodeOf(err) == irp.WSAIOPending)
	n, _, err := th.WSAGetOverlappedResult(s, ev, true)
	require.NoError(t, err)
	require.EqualValues(t, 4, n)
	require.NoError(t, th.Closesocket(s))
}

// Close with operations outstanding: the layer closes the lower socket at once and
// defers WPUCloseSocketHandle until they completed, each once with
// WSA_OPERATION_ABORTED (invariants 52, 53).
func TestDeferredHandleClose(t *testing.T) {
	w, th, l := layered(t)
	s, _ := dialPeer(t, th)
	ovs := make([]*winsock.Overlapped, 3)
	for k := range ovs {
		ovs[k] = &winsock.Overlapped{Event: winsock.WSACreateEvent()}
		_, err := th.WSARecv(s, [][]byte{make([]byte, 8)}, nil, ovs[k], nil)
		require.Equal(t, irp.WSAIOPending, winsock.CodeOf(err))
	}
	resume := l.Pause() // the lower completions queue up on the worker
	require.NoError(t, th.Closesocket(s))
	require.EqualValues(t, 1, w.Stats().ProviderHandles, "the layer's handle outlives the close while operations are outstanding")
	require.Zero(t, l.Stats().HandlesClosed)
	resume()
	for _, ov := range ovs {
		require.Equal(t, winsock.WaitObject0, th.WaitForSingleObjectEx(ov.Event, waitLimit, false))
		_, _, err := th.WSAGetOverlappedResult(s, ov, false)
		require.Equal(t, irp.WSAOperationAborted, winsock.CodeOf(err))
		c, st := ov.Completions()
		require.Equal(t, uint64(1), c)
		require.Equal(t, uint64(1), st)
	}
	require.Eventually(t, func() bool { return l.Stats().HandlesClosed == 1 }, waitLimit, time.Millisecond)
	require.Zero(t, w.Stats().ProviderHandles)
	st := l.Stats()
	require.EqualValues(t, 1, st.DeferredCloses)
	require.EqualValues(t, 1, st.HandlesClosed)
}

// The linger table still holds through the layer (the connection lives in the base
// provider; the layer passes SIOTakeConnection down).
func TestLingerThroughLayer(t *testing.T) {
	_, th, _ := layered(t)
	s, peer := dialPeer(t, th)
	ov := &winsock.Overlapped{}
	_, err := th.WSASend(s, [][]byte{make([]byte, 2_000_000)}, 0, ov, nil)
	require.True(t, err == nil || winsock.CodeOf(err) == irp.WSAIOPending)
	require.NoError(t, th.Closesocket(s))
	b := make([]byte, 1<<16)
	var n int64
	_ = peer.SetReadDeadline(time.Now().Add(waitLimit))
	for {
		k, err := peer.Read(b)
		n += int64(k)
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
	}
	require.EqualValues(t, 2_000_000, n)
	s2, p2 := dialPeer(t, th)
	require.NoError(t, th.Setsockopt(s2, winsock.SOLSocket, winsock.SOLinger, winsock.Linger{OnOff: 1}.Bytes()))
	require.NoError(t, th.Closesocket(s2))
	_ = p2.SetReadDeadline(time.Now().Add(waitLimit))
	_, err = p2.Read(b)
	require.True(t, errors.Is(err, syscall.ECONNRESET), "%v", err)
}

// The WPU upcalls' error codes, and the rule that WPUCloseSocketHandle is the last
// upcall for a handle (invariant 53); thread contexts (invariant 54).
func TestUpcallErrors(t *testing.T) {
	w, th, l := layered(t)
	up := l.Upcalls()
	h, code := up.CreateSocketHandle(l.CatalogID(), "ctx")
	require.Zero(t, code)
	c, code := up.QuerySocketHandleContext(h)
	require.Zero(t, code)
	require.Equal(t, "ctx", c)
	_, code = up.CreateSocketHandle(4242, nil)
	require.Equal(t, irp.WSAEINVAL, code, "unknown catalog id")
	require.Zero(t, up.CloseSocketHandle(h))
	_, code = up.QuerySocketHandleContext(h)
	require.Equal(t, irp.WSAENOTSOCK, code, "query after the close")
	require.Equal(t, irp.WSAENOTSOCK, up.CloseSocketHandle(h), "a second close")
	require.Equal(t, irp.WSAEINVAL, up.CompleteOverlappedRequest(h, &winsock.Overlapped{}, 0, 0), "complete after the close")
	app, err := th.Socket(winsock.AFInet, winsock.SockDgram, 0)
	require.NoError(t, err)
	require.Equal(t, irp.WSAENOTSOCK, up.CloseSocketHandle(app), "a SOCKET of the switch is not a WPU handle")
	_, code = up.QuerySocketHandleContext(winsock.Socket(12345))
	require.Equal(t, irp.WSAENOTSOCK, code)
	h2, _ := up.CreateSocketHandle(l.CatalogID(), nil)
	require.Equal(t, winsock.WSAEFAULT, up.CompleteOverlappedRequest(h2, nil, 0, 0))
	require.Equal(t, irp.WSAEINVAL, up.CompleteOverlappedRequest(h2, &winsock.Overlapped{}, 0, 0), "no operation in progress")
	require.Zero(t, up.CloseSocketHandle(h2))

	// Threads: one close per open; queue to a closed one fails; close runs what is queued.
	t2, code := up.OpenCurrentThread()
	require.Zero(t, code)
	var ran atomic.Int32
	require.Zero(t, up.QueueApc(t2.ID(), func(uintptr, any) { ran.Add(1) }, 0, nil))
	require.Zero(t, up.CloseThread(t2.ID()))
	require.EqualValues(t, 1, ran.Load(), "WPUCloseThread ran the queued APC on its caller")
	require.Equal(t, irp.WSAEINVAL, up.CloseThread(t2.ID()), "a second close")
	require.Equal(t, winsock.WSAEFAULT, up.QueueApc(t2.ID(), func(uintptr, any) {}, 0, nil), "queue to a closed thread")
	require.Equal(t, winsock.WSAEFAULT, up.QueueApc(winsock.ThreadID{Handle: 99}, func(uintptr, any) {}, 0, nil))
	require.NoError(t, th.Closesocket(app))
	_ = w
}

// After WSACleanup every upcall is WSANOTINITIALISED.
func TestUpcallsAfterCleanup(t *testing.T) {
	l := lsp.New()
	w, _, err := winsock.WSAStartup(winsock.MakeWord(2, 2), winsock.WithLayer(l.Provider()))
	require.NoError(t, err)
	up := l.Upcalls()
	require.NoError(t, w.WSACleanup())
	_, code := up.CreateSocketHandle(l.CatalogID(), nil)
	require.Equal(t, irp.WSANOTINITIALISED, code)
	require.Equal(t, irp.WSANOTINITIALISED, up.CloseSocketHandle(1))
	_, code = up.QuerySocketHandleContext(1)
	require.Equal(t, irp.WSANOTINITIALISED, code)
	_, code = up.OpenCurrentThread()
	require.Equal(t, irp.WSANOTINITIALISED, code)
	require.Equal(t, irp.WSANOTINITIALISED, up.CloseThread(winsock.ThreadID{}))
	require.Equal(t, irp.WSANOTINITIALISED, up.QueueApc(winsock.ThreadID{}, func(uintptr, any) {}, 0, nil))
	require.Equal(t, irp.WSANOTINITIALISED, up.CompleteOverlappedRequest(1, &winsock.Overlapped{}, 0, 0))
}

// Faults injected by the layer reach the application with their exact code, and the
// call never reaches the layer below.
func TestInjectedFaults(t *testing.T) {
	_, th, l := layered(t)
	l.InjectFault(lsp.Socket, irp.WSAENOBUFS, 1)
	_, err := th.Socket(winsock.AFInet, winsock.SockStream, 0)
	require.Equal(t, irp.WSAENOBUFS, winsock.CodeOf(err))
	s, _ := dialPeer(t, th)
	l.InjectFault(lsp.Recv, irp.WSAECONNRESET, 1)
	ov := &winsock.Overlapped{}
	_, err = th.WSARecv(s, [][]byte{make([]byte, 4)}, nil, ov, nil)
	require.Equal(t, irp.WSAECONNRESET, winsock.CodeOf(err))
	_, _, pending := ovResult(ov)
	require.False(t, pending, "a refused call leaves its Overlapped free for reuse")
	_, err = th.WSARecv(s, [][]byte{make([]byte, 4)}, nil, ov, nil)
	require.Equal(t, irp.WSAIOPending, winsock.CodeOf(err), "reused")
	require.NoError(t, th.Closesocket(s))
	_, _, err = th.WSAGetOverlappedResult(s, ov, true)
	require.Equal(t, irp.WSAOperationAborted, winsock.CodeOf(err))
	require.EqualValues(t, 2, l.Stats().Faults)
	_ = netip.AddrPort{}
}

func ovResult(ov *winsock.Overlapped) (winsock.WSAError, uint32, bool) {
	e, n, _, p := ov.Result()
	return e, n, p
}

// A completion port associated with the layer's SOCKET gets the packets the layer
// completes with WPUCompleteOverlappedRequest on its own handle.
func TestCompletionPortThroughLayer(t *testing.T) {
	_, th, _ := layered(t)
	s, peer := dialPeer(t, th)
	port, err := th.CreateIoCompletionPort(s, nil, 9)
	require.NoError(t, err)
	defer port.Close()
	ov := &winsock.Overlapped{}
	_, err = th.WSARecv(s, [][]byte{make([]byte, 8)}, nil, ov, nil)
	require.Equal(t, irp.WSAIOPending, winsock.CodeOf(err))
	_, err = peer.Write([]byte("port"))
	require.NoError(t, err)
	pk, ok := port.GetQueuedCompletionStatus(waitLimit)
	require.True(t, ok)
	require.EqualValues(t, 9, pk.Key)
	require.Same(t, ov, pk.Overlapped)
	require.EqualValues(t, 4, pk.Bytes)
	require.NoError(t, th.Closesocket(s))
}
