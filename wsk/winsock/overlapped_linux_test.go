//go:build linux

package winsock_test

import (
	"bytes"
	"net/netip"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/winsock"
)

// goid is the running goroutine's id (for "which goroutine ran the routine" only).
func goid() uint64 {
	var b [64]byte
	n := runtime.Stack(b[:], false)
	f := bytes.Fields(b[:n])
	id, _ := strconv.ParseUint(string(f[1]), 10, 64)
	return id
}

func TestOverlappedRecvEvent(t *testing.T) {
	_, th := session(t)
	s, peer := dialPeer(t, th)
	ov := &winsock.Overlapped{Event: winsock.WSACreateEvent()}
	buf := make([]byte, 16)
	_, err := th.WSARecv(s, [][]byte{buf}, nil, ov, nil)
	require.Equal(t, irp.WSAIOPending, code(err))
	_, _, err = th.WSAGetOverlappedResult(s, ov, false)
	require.Equal(t, winsock.WSAIOIncomplete, code(err))
	_, err = th.WSARecv(s, [][]byte{buf}, nil, ov, nil)
	require.Equal(t, irp.WSAEINVAL, code(err), "an Overlapped still in use")
	_, err = peer.Write([]byte("hello"))
	require.NoError(t, err)
	require.Equal(t, winsock.WaitObject0, th.WaitForSingleObjectEx(ov.Event, waitLimit, false))
	n, _, err := th.WSAGetOverlappedResult(s, ov, true)
	require.NoError(t, err)
	require.Equal(t, "hello", string(buf[:n]))
	c, st := ov.Completions()
	require.Equal(t, c, st)
	require.NoError(t, th.Closesocket(s))
}

func TestOverlappedCompletionPort(t *testing.T) {
	_, th := session(t)
	s, peer := dialPeer(t, th)
	port, err := th.CreateIoCompletionPort(s, nil, 0)
	require.NoError(t, err)
	_, err = th.CreateIoCompletionPort(s, port, 7)
	require.Equal(t, winsock.WSAInvalidParameter, code(err), "one port per socket")
	defer port.Close()
	s2, _ := dialPeer(t, th)
	_, err = th.CreateIoCompletionPort(s2, port, 42)
	require.NoError(t, err)
	ov := &winsock.Overlapped{}
	buf := make([]byte, 16)
	_, err = th.WSARecv(s2, [][]byte{buf}, nil, ov, nil)
	require.Equal(t, irp.WSAIOPending, code(err))
	_, err = th.WSASend(s, [][]byte{[]byte("to peer")}, 0, &winsock.Overlapped{}, nil)
	require.True(t, err == nil || code(err) == irp.WSAIOPending)
	pk, ok := port.GetQueuedCompletionStatus(waitLimit)
	require.True(t, ok)
	require.EqualValues(t, 0, pk.Key, "the send on s completed first")
	_, err = peer.Write([]byte("x"))
	require.NoError(t, err)
	require.NoError(t, th.Closesocket(s2)) // the pending receive on s2 is aborted
	pk, ok = port.GetQueuedCompletionStatus(waitLimit)
	require.True(t, ok)
	require.EqualValues(t, 42, pk.Key)
	require.Same(t, ov, pk.Overlapped)
	require.Equal(t, irp.WSAOperationAborted, pk.Err)
	_, ok = port.GetQueuedCompletionStatus(10 * time.Millisecond)
	require.False(t, ok, "exactly one packet per operation")
	require.NoError(t, th.Closesocket(s))
}

// A completion routine runs only on the thread that issued the call, only at an
// alertable point, and exactly once (invariant 54).
func TestCompletionRoutineRunsAtAlertablePointOnly(t *testing.T) {
	_, th := session(t)
	s, peer := dialPeer(t, th)
	me := goid()
	var runs atomic.Int32
	var ranOn atomic.Uint64
	var gotErr atomic.Int64
	var gotN atomic.Uint32
	cr := func(err winsock.WSAError, n uint32, _ *winsock.Overlapped, _ uint32) {
		runs.Add(1)
		ranOn.Store(goid())
		gotErr.Store(int64(err))
		gotN.Store(n)
	}
	buf := make([]byte, 16)
	ov := &winsock.Overlapped{}
	_, err := th.WSARecv(s, [][]byte{buf}, nil, ov, cr)
	require.Equal(t, irp.WSAIOPending, code(err))
	_, err = peer.Write([]byte("abc"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { _, _, _, p := ov.Result(); return !p }, waitLimit, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	require.Zero(t, runs.Load(), "no alertable point yet")
	require.Equal(t, uint32(0), th.SleepEx(0, false), "a non-alertable wait runs no APC")
	require.Zero(t, runs.Load())
	require.Equal(t, winsock.WaitIOCompletion, th.SleepEx(waitLimit, true))
	require.EqualValues(t, 1, runs.Load())
	require.Equal(t, me, ranOn.Load(), "ran on the issuing goroutine")
	require.Zero(t, gotErr.Load())
	require.EqualValues(t, 3, gotN.Load())
	require.Equal(t, uint32(0), th.SleepEx(10*time.Millisecond, true), "nothing more to run")
	require.EqualValues(t, 1, runs.Load(), "exactly once")
	require.NoError(t, th.Closesocket(s))
}

// Overlapped operations pending at close, one per notification kind, complete exactly
// once with WSA_OPERATION_ABORTED, the routine's after closesocket returned, at the
// next alertable point (invariants 46, 52).
func TestCloseAbortsPendingOverlapped(t *testing.T) {
	_, th := session(t)
	s, _ := dialPeer(t, th)
	ev := &winsock.Overlapped{Event: winsock.WSACreateEvent()}
	var crRuns atomic.Int32
	var crErr atomic.Int64
	crOv := &winsock.Overlapped{}
	b1, b2 := make([]byte, 8), make([]byte, 8)
	_, err := th.WSARecv(s, [][]byte{b1}, nil, ev, nil)
	require.Equal(t, irp.WSAIOPending, code(err))
	_, err = th.WSARecv(s, [][]byte{b2}, nil, crOv, func(e winsock.WSAError, _ uint32, _ *winsock.Overlapped, _ uint32) {
		crRuns.Add(1)
		crErr.Store(int64(e))
	})
	require.Equal(t, irp.WSAIOPending, code(err))
	sendOv := fill(t, th, s, 8_000_000)
	setLinger(t, th, s, 1, 0)
	require.NoError(t, th.Closesocket(s))
	require.True(t, ev.Event.IsSet())
	n, _, err := th.WSAGetOverlappedResult(s, ev, false)
	require.Equal(t, irp.WSAOperationAborted, code(err))
	require.Zero(t, n)
	_, _, err = th.WSAGetOverlappedResult(s, sendOv, true)
	require.Equal(t, irp.WSAOperationAborted, code(err))
	require.Zero(t, crRuns.Load(), "the routine waits for an alertable point, after closesocket returned")
	require.Equal(t, winsock.WaitIOCompletion, th.SleepEx(waitLimit, true))
	require.EqualValues(t, 1, crRuns.Load())
	require.EqualValues(t, irp.WSAOperationAborted, crErr.Load())
	for _, ov := range []*winsock.Overlapped{ev, crOv, sendOv} {
		c, st := ov.Completions()
		require.Equal(t, uint64(1), c)
		require.Equal(t, uint64(1), st)
	}
}

// A blocking call on one goroutine and closesocket on another: the blocked call
// returns WSAEINTR, never hangs.
func TestCloseInterruptsBlockingRecv(t *testing.T) {
	_, th := session(t)
	s, _ := dialPeer(t, th)
	got := make(chan error, 1)
	go func() {
		t2, err := threadFor(th)
		if !assert.NoError(t, err) {
			got <- err
			return
		}
		_, err = t2.Recv(s, make([]byte, 8), 0)
		closeThread(th, t2) // before reporting: the session's cleanup checks it
		got <- err
	}()
	time.Sleep(20 * time.Millisecond) // (if the close comes first, Recv gets WSAENOTSOCK)
	require.NoError(t, th.Closesocket(s))
	select {
	case err := <-got:
		require.Contains(t, []winsock.WSAError{irp.WSAEINTR, irp.WSAENOTSOCK}, code(err), "%v", err)
		t.Logf("the blocked recv returned %v", err)
	case <-time.After(waitLimit):
		require.FailNow(t, "blocked recv never returned")
	}
}

func TestUDPOverlapped(t *testing.T) {
	_, th := session(t)
	a, err := th.Socket(winsock.AFInet, winsock.SockDgram, 0)
	require.NoError(t, err)
	require.NoError(t, th.Bind(a, loopback0()))
	aa, _ := th.GetSockName(a)
	b, err := th.Socket(winsock.AFInet, winsock.SockDgram, 0)
	require.NoError(t, err)
	var from netip.AddrPort
	ov := &winsock.Overlapped{Event: winsock.WSACreateEvent()}
	buf := make([]byte, 32)
	_, err = th.WSARecvFrom(a, [][]byte{buf}, nil, &from, ov, nil)
	require.Equal(t, irp.WSAIOPending, code(err))
	_, err = th.WSASendTo(b, [][]byte{[]byte("over")}, 0, aa, &winsock.Overlapped{}, nil)
	require.True(t, err == nil || code(err) == irp.WSAIOPending, "%v", err)
	n, _, err := th.WSAGetOverlappedResult(a, ov, true)
	require.NoError(t, err)
	require.Equal(t, "over", string(buf[:n]))
	require.True(t, from.IsValid())
	require.NoError(t, th.Closesocket(a))
	require.NoError(t, th.Closesocket(b))
}
