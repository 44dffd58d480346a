//go:build linux

package winsock_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/winsock"
)

// closesocket races every overlapped call type (WSASend, WSARecv, WSASendTo,
// WSARecvFrom), each with every notification (event, completion port, completion
// routine), and a second closesocket. Each call is refused (WSAENOTSOCK) or started;
// every started one completes exactly once (success, or WSA_OPERATION_ABORTED);
// exactly one of the two closes succeeds. Every outcome is observed (invariants 46,
// 51, 52): a third of the rounds pin the order (the closes wait until the call was issued),
// so that the started outcomes happen however the scheduler treats the free races.
func TestCloseRacesOverlappedCalls(t *testing.T) {
	w, th := session(t)
	ln := peerListener(t)
	const iters = 600 // fast (well under a second): the same in -short
	port, err := th.CreateIoCompletionPort(winsock.InvalidSocket, nil, 0)
	require.NoError(t, err)
	defer port.Close()
	var (
		refused, started, completed, aborted, succeeded atomic.Int64
		closeOK, closeNotSock                           atomic.Int64
		byKind                                          [4][3]atomic.Int64 // kind × (refused, aborted, ok)
	)
	for it := range iters {
		kind, notify := it%4, (it/4)%3
		s, err := th.Socket(winsock.AFInet, winsock.SockStream, 0)
		require.NoError(t, err)
		require.NoError(t, th.Connect(s, addrOf(ln)))
		_ = ln.SetDeadline(time.Now().Add(waitLimit))
		peer, err := ln.AcceptTCP()
		require.NoError(t, err)
		if (it/12)%2 == 0 {
			_, _ = peer.Write([]byte("data")) // some receives complete with data
		}
		setLinger(t, th, s, 1, 0)
		if notify == 1 {
			_, err = th.CreateIoCompletionPort(s, port, uintptr(it))
			require.NoError(t, err)
		}
		var wg sync.WaitGroup
		wg.Add(3)
		pinned := it%3 == 0
		issued := make(chan struct{}) // closed once the call returned (pinned rounds wait for it)
		var issueOnce sync.Once
		markIssued := func() { issueOnce.Do(func() { close(issued) }) }
		go func() { // the caller, on its own thread context
			defer wg.Done()
			defer markIssued()
			ct, err := threadFor(th)
			if !assert.NoError(t, err) {
				return
			}
			defer closeThread(th, ct)
			ov := &winsock.Overlapped{}
			var cr winsock.CompletionRoutine
			var crRuns atomic.Int32
			switch notify {
			case 0:
				ov.Event = winsock.WSACreateEvent()
			case 2:
				cr = func(winsock.WSAError, uint32, *winsock.Overlapped, uint32) { crRuns.Add(1) }
			}
			buf := [][]byte{make([]byte, 64)}
			var flags uint32
			switch kind {
			case 0:
				_, err = ct.WSASend(s, buf, 0, ov, cr)
			case 1:
				_, err = ct.WSARecv(s, buf, &flags, ov, cr)
			case 2:
				_, err = ct.WSASendTo(s, buf, 0, addrOf(ln), ov, cr)
			case 3:
				_, err = ct.WSARecvFrom(s, buf, &flags, nil, ov, cr)
			}
			markIssued()
			if c := code(err); c != 0 && c != irp.WSAIOPending {
				assert.Contains(t, []winsock.WSAError{irp.WSAENOTSOCK}, c, "refused with %v", err)
				refused.Add(1)
				byKind[kind][0].Add(1)
				return
			}
			started.Add(1)
			deadline := time.Now().Add(waitLimit)
			switch notify { // wait for the one notification
			case 0:
				assert.Equal(t, winsock.WaitObject0, ct.WaitForSingleObjectEx(ov.Event, waitLimit, false))
			case 1:
				pk, ok := port.GetQueuedCompletionStatus(waitLimit)
				assert.True(t, ok, "no packet")
				assert.Same(t, ov, pk.Overlapped)
			case 2:
				for crRuns.Load() == 0 && time.Now().Before(deadline) {
					ct.SleepEx(waitLimit, true)
				}
				assert.EqualValues(t, 1, crRuns.Load(), "the routine ran once")
			}
			c, st := ov.Completions()
			assert.Equal(t, uint64(1), c, "completed once")
			assert.Equal(t, uint64(1), st)
			completed.Add(1)
			e, _, _, _ := ov.Result()
			switch e {
			case 0:
				succeeded.Add(1)
				byKind[kind][2].Add(1)
			case irp.WSAOperationAborted:
				aborted.Add(1)
				byKind[kind][1].Add(1)
			default:
				assert.Failf(t, "unexpected completion", "%v", winsock.CodeName(e))
			}
		}()
		for range 2 { // two closes racing each other and the call
			go func() {
				defer wg.Done()
				ct, err := threadFor(th)
				if !assert.NoError(t, err) {
					return
				}
				defer closeThread(th, ct)
				if pinned {
					<-issued
				}
				switch c := code(ct.Closesocket(s)); c {
				case 0:
					closeOK.Add(1)
				case irp.WSAENOTSOCK:
					closeNotSock.Add(1)
				default:
					assert.Failf(t, "closesocket", "%v", winsock.CodeName(c))
				}
			}()
		}
		wg.Wait()
		_ = peer.Close()
	}
	_, ok := port.GetQueuedCompletionStatus(0)
	require.False(t, ok, "no stray packet")
	t.Logf("calls: refused %d, started %d (completed %d: ok %d, aborted %d); closes ok %d, WSAENOTSOCK %d",
		refused.Load(), started.Load(), completed.Load(), succeeded.Load(), aborted.Load(),
		closeOK.Load(), closeNotSock.Load())
	for k := range byKind {
		t.Logf("kind %d: refused %d, aborted %d, ok %d", k, byKind[k][0].Load(), byKind[k][1].Load(), byKind[k][2].Load())
	}
	require.EqualValues(t, iters, refused.Load()+started.Load())
	require.Equal(t, started.Load(), completed.Load(), "every started call completed once")
	require.EqualValues(t, iters, closeOK.Load(), "exactly one close per socket won")
	require.EqualValues(t, iters, closeNotSock.Load())
	require.Positive(t, refused.Load(), "outcome refused observed")
	require.Positive(t, aborted.Load(), "outcome aborted observed")
	require.Positive(t, succeeded.Load(), "outcome completed observed")
	require.Zero(t, w.Stats().DoubleCompletions)
}
