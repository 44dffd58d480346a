//go:build linux && !race

package wsk

import (
	"net"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// closeAllocBudget is what one close of a connection with a pending receive may allocate:
// the one closure dispatch's guard makes for its rundown continuation (guardCloseSocket).
// The provider's own steps allocate nothing: their continuations are a recycled closeRun's
// (socket_close_run.go), and the rundowns they wait on, which no reference holds by then,
// complete without a waiter block.
const closeAllocBudget = 1

// TestCloseAllocations counts the heap allocations of closes alone (ReadMemStats around
// each, so the connect, the accept and the posted receive are not counted), over enough
// closes that a recycled run dropped by a garbage collection is amortised. Skipped under
// the race detector, which drops sync.Pool items at random.
func TestCloseAllocations(t *testing.T) {
	const closes = 300
	r, npi := newReg(t)
	defer finish(t, r)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	c := newPendingCloser(t, npi, ln, ln.Addr().(*net.TCPAddr).AddrPort())
	defer c.free()
	var before, after runtime.MemStats
	var mallocs, bytes uint64
	for range closes {
		c.connect()
		runtime.ReadMemStats(&before)
		c.close()
		runtime.ReadMemStats(&after)
		c.done()
		mallocs += after.Mallocs - before.Mallocs
		bytes += after.TotalAlloc - before.TotalAlloc
	}
	c.check(closes)
	per := float64(mallocs) / closes
	t.Logf("per close with one pending receive: %.2f allocations, %.1f B", per, float64(bytes)/closes)
	require.LessOrEqual(t, per, closeAllocBudget+0.25, "a close allocates more than the guard's continuation")
}
