//go:build linux

package winsock

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
)

// apiTable is a session's socket table seen through the public calls of one thread
// context: add is socket + bind to a loopback port (the value is that port), get is
// getsockname, remove is closesocket. A refused handle is WSAENOTSOCK. A getsockname
// that overlaps the closesocket of its SOCKET (a call the application must not make) may
// instead pass the SOCKET's check before the close and find the provider's socket
// closed under it: another error, recorded as a miss with the value closeRaced (the
// close had already removed the SOCKET from the table, so the miss is where it
// linearizes), and the test checks that every such miss overlaps a successful close of
// that SOCKET. Any other error fails the test.
type apiTable struct {
	t  *testing.T
	th *Thread
}

func (a apiTable) add(int) (uint64, int, bool) {
	s, err := a.th.Socket(AFInet, SockDgram, 0)
	if !assert.NoError(a.t, err) {
		return 0, 0, false
	}
	assert.NoError(a.t, a.th.Bind(s, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 0)))
	ap, err := a.th.GetSockName(s)
	assert.NoError(a.t, err)
	return uint64(s), int(ap.Port()), true
}

// closeRaced is the value of a getsockname miss that was not WSAENOTSOCK.
const closeRaced = -2

func (a apiTable) get(h uint64) (int, bool) {
	ap, err := a.th.GetSockName(Socket(h))
	if err != nil {
		if CodeOf(err) != irp.WSAENOTSOCK {
			return closeRaced, false
		}
		return 0, false
	}
	return int(ap.Port()), true
}

func (a apiTable) remove(h uint64) (int, bool) {
	err := a.th.Closesocket(Socket(h))
	if err != nil {
		assert.Equal(a.t, irp.WSAENOTSOCK, CodeOf(err), "closesocket of %#x", h)
		return 0, false
	}
	return anyValue, true
}

// The same histories through the public API, four thread contexts of one session:
// socket (bound, so the value is its port), getsockname and closesocket of live, closed
// and never-issued SOCKETs linearize against the model.
func TestLinearizableSocketCalls(t *testing.T) {
	w, _, err := WSAStartup(MakeWord(2, 2))
	require.NoError(t, err)
	var threads []*Thread
	for range 4 {
		th, err := w.OpenThread()
		require.NoError(t, err)
		threads = append(threads, th)
	}
	t.Cleanup(func() {
		for _, th := range threads {
			assert.NoError(t, w.CloseThread(th))
		}
		assert.NoError(t, w.WSACleanup())
		st := w.Stats()
		assert.Zero(t, st.LeakedHandles)
		assert.Zero(t, st.Panics)
	})
	tables := make([]linTable, len(threads))
	for i, th := range threads {
		tables[i] = apiTable{t: t, th: th}
	}
	n := 2000
	if testing.Short() {
		n = 200
	}
	const perWorker, limit = 6, 1 << 30 // the session's table is not the bound here
	// Never issued: another table's tag, a slot far beyond the table, generation 0.
	never := []uint64{uint64(InvalidSocket), tagProvider<<56 | 1<<32, tagSocket<<56 | 1<<32 | 999_999,
		tagSocket << 56}
	var (
		c     linCounts
		raced int
		lost  int // closesockets that lost to a concurrent one, left out of the check
	)
	start := time.Now()
	for i := 0; i < n && time.Since(start) < 15*time.Second; i++ {
		setup, _ := newLinSetup(tables[0], limit)
		ops := recordHistory(tables, setup, never, perWorker, uint64(i))
		c.observe(ops, setup)
		raced += checkCloseRaced(t, ops)
		ops, dropped := dropLostCloses(ops)
		lost += dropped
		if !linearizable(setup.model(), ops) {
			c.rejected++
			if c.firstRejected == nil {
				c.firstRejected = ops
			}
		}
		for h := range setup.live { // close what is left, so the next history starts clean
			_ = threads[0].Closesocket(Socket(h))
		}
		for _, o := range ops {
			if o.kind == hopAdd && o.ok {
				_ = threads[0].Closesocket(Socket(o.h))
			}
		}
		if t.Failed() {
			break
		}
	}
	t.Logf("%d histories, %d calls (4 thread contexts x 6), %d overlapping pairs (%d on one "+
		"handle with a remove); getsockname %d ok %d WSAENOTSOCK, closesocket %d ok %d "+
		"WSAENOTSOCK, %d sockets, %d into a reused slot; %d getsockname failed otherwise "+
		"under a closesocket of their SOCKET; %d closesocket lost to a concurrent one; %v", c.histories, c.ops, c.overlaps,
		c.sameHandleOverlaps, c.getHit, c.getMiss, c.removeHit, c.removeMiss, c.addOK,
		c.slotReused, raced, lost, time.Since(start))
	require.Zero(t, c.rejected, "a history is not linearizable: %v", c.firstRejected)
	require.GreaterOrEqual(t, c.histories, min(n, 50), "too few histories in the time")
	for name, v := range map[string]int{
		"overlapping calls": c.overlaps, "overlapping calls on one handle": c.sameHandleOverlaps,
		"getsockname hits": c.getHit, "getsockname misses": c.getMiss,
		"closesocket hits": c.removeHit, "closesocket misses": c.removeMiss,
		"sockets": c.addOK, "reused slots": c.slotReused,
	} {
		require.Positive(t, v, "no %s: the histories do not cover it", name)
	}
}

// checkCloseRaced fails t for a getsockname miss other than WSAENOTSOCK that overlaps no
// successful closesocket of its SOCKET, and returns how many misses there were.
func checkCloseRaced(t *testing.T, ops []hop) int {
	n := 0
	for _, g := range ops {
		if g.kind != hopGet || g.ok || g.val != closeRaced {
			continue
		}
		n++
		overlapped := false
		for _, r := range ops {
			if r.kind == hopRemove && r.ok && r.h == g.h && r.inv < g.res && g.inv < r.res {
				overlapped = true
			}
		}
		assert.True(t, overlapped, "getsockname of %#x failed with no closesocket of it under way", g.h)
	}
	return n
}

// dropLostCloses returns ops without the closesockets that failed (WSAENOTSOCK) while a
// successful closesocket of the same SOCKET ran, and how many it left out. Such a
// closesocket lost the close to the other one (its first step), which removes the SOCKET
// from the table only a few steps later, so for a while the SOCKET still works for other
// calls though the loser already said it is not a socket: not linearizable with a
// table of handles, and a call the application must not make (two closes of one SOCKET
// at once). The loser changes nothing, so leaving it out checks the rest as before.
func dropLostCloses(ops []hop) ([]hop, int) {
	kept := ops[:0:0]
	for _, o := range ops {
		lost := false
		if o.kind == hopRemove && !o.ok {
			for _, r := range ops {
				if r.kind == hopRemove && r.ok && r.h == o.h && r.inv < o.res && o.inv < r.res {
					lost = true
				}
			}
		}
		if !lost {
			kept = append(kept, o)
		}
	}
	return kept, len(ops) - len(kept)
}
