//go:build linux

package winsock_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/winsock"
)

// Concurrent closesockets of one nonblocking {1,n} SOCKET with data not delivered: every
// one hands the close back (WSAEWOULDBLOCK) and the SOCKET keeps working. None may answer
// WSAENOTSOCK: a closesocket that meets another one deciding waits for that decision, and
// the decision here is "not closed" (closesocket's step 1). Then {1,0} closes it, and
// every closesocket after that is WSAENOTSOCK.
func TestConcurrentClosesWaitForTheDecision(t *testing.T) {
	w, th := session(t)
	s, _ := dialPeer(t, th)
	setLinger(t, th, s, 1, 5)
	fill(t, th, s, 8_000_000)
	setNonblocking(t, th, s, true)

	const closers, rounds = 4, 200
	threads := make([]*winsock.Thread, closers)
	for i := range threads {
		other, err := w.OpenThread()
		require.NoError(t, err)
		threads[i] = other
	}
	defer func() {
		for _, other := range threads {
			assert.NoError(t, w.CloseThread(other))
		}
	}()
	var wouldBlock, other int
	for range rounds {
		codes := make([]winsock.WSAError, closers)
		var start, wg sync.WaitGroup
		start.Add(1)
		for i, ct := range threads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start.Wait()
				codes[i] = code(ct.Closesocket(s))
			}()
		}
		start.Done()
		wg.Wait()
		for _, c := range codes {
			if c == irp.WSAEWOULDBLOCK {
				wouldBlock++
			} else {
				other++
				t.Errorf("a concurrent closesocket answered %d; every one must hand the close back", c)
			}
		}
		_, err := th.Getsockopt(s, winsock.SOLSocket, winsock.SOError, make([]byte, 4))
		require.NoError(t, err, "the SOCKET stays valid after the closes were handed back")
		if t.Failed() {
			break
		}
	}
	t.Logf("%d closesockets in %d rounds of %d: %d WSAEWOULDBLOCK, %d other", wouldBlock+other,
		rounds, closers, wouldBlock, other)
	require.Equal(t, rounds*closers, wouldBlock)

	setLinger(t, th, s, 1, 0)
	require.NoError(t, th.Closesocket(s))
	for _, ct := range threads {
		require.Equal(t, irp.WSAENOTSOCK, code(ct.Closesocket(s)))
	}
}
