//go:build linux

package winsock_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/winsock"
)

// A Thread belongs to one goroutine: a second goroutine's call while the first is
// blocked in one gets WSAEINPROGRESS; an alertable wait gets WAIT_FAILED.
func TestThreadBusyIsInProgress(t *testing.T) {
	w, th := session(t)
	s, _ := dialPeer(t, th)
	base := w.Stats().WSK.IRPsPending
	blocked := make(chan error, 1)
	go func() {
		for { // until th is free: the test goroutine's probes use it too
			_, err := th.Recv(s, make([]byte, 4), 0) // blocks on th
			if code(err) != irp.WSAEINPROGRESS {
				blocked <- err
				return
			}
		}
	}()
	require.Eventually(t, func() bool { return th.SleepEx(0, true) == winsock.WaitFailed }, waitLimit, time.Millisecond)
	// th busy is not yet "blocked in the receive": wait until its WskReceive is pending too,
	// or the close below could come before the receive looked the SOCKET up.
	require.Eventually(t, func() bool { return w.Stats().WSK.IRPsPending > base }, waitLimit, time.Millisecond)
	_, err := th.Socket(winsock.AFInet, winsock.SockDgram, 0)
	require.Equal(t, irp.WSAEINPROGRESS, code(err))
	t2, err := threadFor(th)
	require.NoError(t, err)
	require.NoError(t, t2.Closesocket(s)) // another thread may close it
	require.Equal(t, irp.WSAEINTR, code(<-blocked))
	closeThread(th, t2)
}

// A completion routine may issue the next call on its own thread (the classic
// read loop), and a routine never runs on a goroutine other than its thread's owner.
func TestCompletionRoutineChains(t *testing.T) {
	_, th := session(t)
	s, peer := dialPeer(t, th)
	me := goid()
	var total atomic.Int64
	var wrongGoroutine atomic.Int32
	var runs atomic.Int32
	buf := make([]byte, 3)
	ov := &winsock.Overlapped{}
	var cr winsock.CompletionRoutine
	cr = func(e winsock.WSAError, n uint32, ov *winsock.Overlapped, _ uint32) {
		runs.Add(1)
		if goid() != me {
			wrongGoroutine.Add(1)
		}
		if e != 0 || n == 0 {
			return
		}
		total.Add(int64(n))
		_, err := th.WSARecv(s, [][]byte{buf}, nil, ov, cr) // from inside the APC, on th
		if err != nil && code(err) != irp.WSAIOPending {
			t.Errorf("chained WSARecv: %v", err)
		}
	}
	_, err := th.WSARecv(s, [][]byte{buf}, nil, ov, cr)
	require.Equal(t, irp.WSAIOPending, code(err))
	_, err = peer.Write([]byte("0123456789"))
	require.NoError(t, err)
	require.NoError(t, peer.CloseWrite())
	deadline := time.Now().Add(waitLimit)
	for total.Load() < 10 && time.Now().Before(deadline) {
		th.SleepEx(100*time.Millisecond, true)
	}
	require.EqualValues(t, 10, total.Load())
	require.Zero(t, wrongGoroutine.Load())
	for range 3 { // the last receive sees the FIN (0 bytes) and stops the chain
		th.SleepEx(20*time.Millisecond, true)
	}
	c, st := ov.Completions()
	require.Equal(t, c, st, "every receive of the chain completed once")
	require.Equal(t, int32(c), runs.Load(), "one routine run per completion")
	require.NoError(t, th.Closesocket(s))
}

// The blocking {1,n} closesocket is an alertable wait: APCs queued to its thread run
// inside it (here, the completion routine of an operation on another socket).
func TestLingeringCloseRunsAPCs(t *testing.T) {
	_, th := session(t)
	s, _ := dialPeer(t, th)
	other, otherPeer := dialPeer(t, th)
	setLinger(t, th, s, 1, 1)
	fill(t, th, s, 8_000_000) // the peer never reads: the close lingers 1 s
	var ran atomic.Int32
	_, err := th.WSARecv(other, [][]byte{make([]byte, 4)}, nil, &winsock.Overlapped{}, func(winsock.WSAError, uint32, *winsock.Overlapped, uint32) {
		ran.Add(1)
	})
	require.Equal(t, irp.WSAIOPending, code(err))
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, _ = otherPeer.Write([]byte("ping"))
	}()
	require.NoError(t, th.Closesocket(s))
	require.EqualValues(t, 1, ran.Load(), "the routine ran during the lingering close")
	require.NoError(t, th.Closesocket(other))
}

// CloseThread with APCs queued runs them on its caller (the owner): exactly once.
func TestCloseThreadRunsQueuedAPCs(t *testing.T) {
	w, th := session(t)
	t2, err := w.OpenThread()
	require.NoError(t, err)
	s, peer := dialPeer(t, th)
	var ran atomic.Int32
	ov := &winsock.Overlapped{}
	_, err = t2.WSARecv(s, [][]byte{make([]byte, 4)}, nil, ov, func(winsock.WSAError, uint32, *winsock.Overlapped, uint32) {
		ran.Add(1)
	})
	require.Equal(t, irp.WSAIOPending, code(err))
	_, err = peer.Write([]byte("data"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { _, _, _, p := ov.Result(); return !p }, waitLimit, time.Millisecond)
	require.Zero(t, ran.Load(), "queued, not run: no alertable point yet")
	require.NoError(t, w.CloseThread(t2))
	require.EqualValues(t, 1, ran.Load())
	require.Equal(t, irp.WSAEINVAL, code(w.CloseThread(t2)), "a second close")
	_, err = t2.Socket(winsock.AFInet, winsock.SockStream, 0)
	require.Error(t, err, "a closed thread context makes no call")
	require.NoError(t, th.Closesocket(s))
}

// A thread context left open at WSACleanup is reported.
func TestUnclosedThreadReported(t *testing.T) {
	w, _, err := winsock.WSAStartup(winsock.MakeWord(2, 2))
	require.NoError(t, err)
	_, err = w.OpenThread()
	require.NoError(t, err)
	require.NoError(t, w.WSACleanup())
	require.EqualValues(t, 1, w.Stats().UnclosedThreads)
}
