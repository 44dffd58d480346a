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
// getsockname, remove is closesocket. A refused handle is WSAENOTSOCK, and so is a
// getsockname that overlaps the closesocket of its SOCKET and fails (a call the
// application must not make, which linearizes after the close): any other error fails
// the test. A closesocket that loses to a concurrent one answers WSAENOTSOCK only once
// the winner has taken the SOCKET out of the table, so it linearizes too.
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

func (a apiTable) get(h uint64) (int, bool) {
	ap, err := a.th.GetSockName(Socket(h))
	if err != nil {
		assert.Equal(a.t, irp.WSAENOTSOCK, CodeOf(err), "getsockname of %#x", h)
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
		c    linCounts
		lost int // closesockets that lost to a concurrent one: in the check like the rest
	)
	start := time.Now()
	for i := 0; i < n && time.Since(start) < 15*time.Second; i++ {
		setup, _ := newLinSetup(tables[0], limit)
		ops := recordHistory(tables, setup, never, perWorker, uint64(i))
		c.observe(ops, setup)
		lost += lostCloses(ops)
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
		"WSAENOTSOCK, %d sockets, %d into a reused slot; %d closesocket lost to a concurrent "+
		"one; %v", c.histories, c.ops, c.overlaps, c.sameHandleOverlaps, c.getHit, c.getMiss,
		c.removeHit, c.removeMiss, c.addOK, c.slotReused, lost, time.Since(start))
	require.Zero(t, c.rejected, "a history is not linearizable: %v", c.firstRejected)
	require.GreaterOrEqual(t, c.histories, min(n, 50), "too few histories in the time")
	for name, v := range map[string]int{
		"overlapping calls": c.overlaps, "overlapping calls on one handle": c.sameHandleOverlaps,
		"getsockname hits": c.getHit, "getsockname misses": c.getMiss,
		"closesocket hits": c.removeHit, "closesocket misses": c.removeMiss,
		"sockets": c.addOK, "reused slots": c.slotReused, "closesockets lost to a concurrent one": lost,
	} {
		require.Positive(t, v, "no %s: the histories do not cover it", name)
	}
}

// lostCloses counts the closesockets that failed (WSAENOTSOCK) while a successful
// closesocket of the same SOCKET ran: they lost its close decision and linearize after
// the winner.
func lostCloses(ops []hop) int {
	n := 0
	for _, o := range ops {
		if o.kind != hopRemove || o.ok {
			continue
		}
		for _, r := range ops {
			if r.kind == hopRemove && r.ok && r.h == o.h && r.inv < o.res && o.inv < r.res {
				n++
				break
			}
		}
	}
	return n
}
