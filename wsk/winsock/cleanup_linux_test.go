//go:build linux

package winsock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/winsock"
)

// WSACleanup is process exit: a call blocked on another goroutine is ended (WSAEINTR),
// the SOCKETs left open are closed, pending overlapped operations complete, and
// nothing of the session runs afterwards (goleak checks the last part).
func TestCleanupEndsBlockedCallsAndOpenSockets(t *testing.T) {
	w, _, err := winsock.WSAStartup(winsock.MakeWord(2, 2), winsock.WithCleanupGrace(50*time.Millisecond))
	require.NoError(t, err)
	th, err := w.OpenThread()
	require.NoError(t, err)
	s, peer := dialPeer(t, th)
	s2, _ := dialPeer(t, th)
	ov := &winsock.Overlapped{Event: winsock.WSACreateEvent()}
	_, err = th.WSARecv(s2, [][]byte{make([]byte, 8)}, nil, ov, nil)
	require.Equal(t, irp.WSAIOPending, code(err))
	t2, err := w.OpenThread()
	require.NoError(t, err)
	base := w.Stats().WSK.IRPsPending // s2's overlapped receive
	blocked := make(chan error, 1)
	go func() {
		for { // until t2 is free: the test goroutine's probes use it too
			_, err := t2.Recv(s, make([]byte, 8), 0)
			if code(err) != irp.WSAEINPROGRESS {
				blocked <- err
				return
			}
		}
	}()
	require.Eventually(t, func() bool { return t2.SleepEx(0, false) == winsock.WaitFailed }, waitLimit, time.Millisecond)
	// t2 busy is not yet "blocked in the receive": wait until its WskReceive is pending too.
	require.Eventually(t, func() bool { return w.Stats().WSK.IRPsPending > base }, waitLimit, time.Millisecond)
	require.NoError(t, w.CloseThread(th))
	require.NoError(t, w.WSACleanup())
	require.Equal(t, irp.WSAEINTR, code(<-blocked))
	_, _, err = th.WSAGetOverlappedResult(s2, ov, false)
	require.Equal(t, irp.WSAOperationAborted, code(err))
	saw := drain(peer)
	t.Logf("a SOCKET left open at WSACleanup: peer saw %v", saw)
	require.True(t, saw.EOF || saw.Reset)
	require.EqualValues(t, 1, w.Stats().UnclosedThreads, "t2 was never closed: reported")
}

// The peer's reset races the application's closesocket: the SOCKET stays valid until
// closesocket (the provider frees nothing before WSPCloseSocket), exactly one close
// succeeds, later calls are WSAENOTSOCK, nothing hangs.
func TestPeerResetRacesClose(t *testing.T) {
	_, th := session(t)
	var okCloses, resetSeen int
	for range 50 {
		s, peer := dialPeer(t, th)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, peer.SetLinger(0))
			assert.NoError(t, peer.Close())
		}()
		_, err := th.Recv(s, make([]byte, 4), 0)
		if code(err) == irp.WSAECONNRESET {
			resetSeen++
		}
		_, err = th.Getsockopt(s, winsock.SOLSocket, winsock.SOType, make([]byte, 4))
		require.NoError(t, err, "still a SOCKET after the reset")
		if th.Closesocket(s) == nil {
			okCloses++
		}
		require.Equal(t, irp.WSAENOTSOCK, code(th.Closesocket(s)))
		wg.Wait()
	}
	t.Logf("50 rounds: closes ok %d, recv saw the reset %d times", okCloses, resetSeen)
	require.Equal(t, 50, okCloses)
	require.Positive(t, resetSeen)
}
