//go:build linux

package wsk

import (
	"net/netip"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/refcount"
	"github.com/gowsk/gowsk/wsk/internal/engine"
)

// TestPerConnectionBytes holds the records an idle connection keeps to the budget the
// package doc gives (# Memory per connection): a field added to one of them must fit, or
// the budget and the doc change with it. Sizes are the records' own (unsafe.Sizeof); the
// allocator rounds each up to its size class, named beside it.
func TestPerConnectionBytes(t *testing.T) {
	for _, c := range []struct {
		name   string
		size   uintptr
		budget uintptr
	}{
		{"socket (size class 256)", unsafe.Sizeof(socket{}), 256},
		{"dispatch.Socket (inside socket)", unsafe.Sizeof(dispatch.Socket{}), 88},
		{"refcount.Rundown (three per socket)", unsafe.Sizeof(refcount.Rundown{}), 16},
		{"opQueue (two inside socket)", unsafe.Sizeof(opQueue{}), 8},
		{"connEvents (size class 32)", unsafe.Sizeof(connEvents{}), 32},
		{"connEventsRare (lazy, size class 24)", unsafe.Sizeof(connEventsRare{}), 24},
		{"engine.FD (size class 48)", unsafe.Sizeof(engine.FD{}), 48},
		// Made on first use only: not held by an idle accepted connection.
		{"socketCold (lazy, size class 64)", unsafe.Sizeof(socketCold{}), 64},
		// Per request in flight, pooled: not held by an idle connection.
		{"op (pooled, size class 176)", unsafe.Sizeof(op{}), 176},
	} {
		t.Logf("%-40s %4d B (budget %d)", c.name, c.size, c.budget)
		require.LessOrEqual(t, c.size, c.budget, "%s grew past its budget", c.name)
	}
}

// TestAcceptAllocations holds accepting a connection to the records the package doc
// counts (# Memory per connection): a connection accepted through WskAcceptEvent with
// the receive and disconnect events inherited allocates its socket, its engine.FD and
// its connEvents, and nothing else (no closure, no address, no queue array). The
// clients connect with raw system calls prepared beforehand and the collector is off, so
// the process's allocation counters see only the provider's work; one P, so that the
// pooled buffers (sync.Pool keeps one per P) come back to the loop that took them.
func TestAcceptAllocations(t *testing.T) {
	const warm, n = 16, 256
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	if raceEnabled {
		t.Skip("the race detector allocates, and sync.Pool drops items at random under it")
	}
	r, npi := newReg(t)
	if r.Engine() == EnginePortable {
		finish(t, r)
		t.Skip("the portable engine costs waiter goroutines and a duplicated descriptor per socket (package doc)")
	}
	var accepted [warm + n]*dispatch.Socket
	var got atomic.Int32
	cd := &dispatch.ClientConnectionDispatch{
		ReceiveEvent: func(any, dispatch.Flags, *dispatch.DataIndication, int, *int) irp.Status {
			return irp.Success
		},
		DisconnectEvent: func(any, dispatch.Flags) irp.Status { return irp.Success },
	}
	ls := newListenSock(t, npi, nil, &dispatch.ClientListenDispatch{
		AcceptEvent: func(_ any, _ dispatch.Flags, _, _ netip.AddrPort, s *dispatch.Socket) (irp.Status, any, *dispatch.ClientConnectionDispatch) {
			if s == nil {
				return irp.Success, nil, nil
			}
			k := got.Add(1) - 1
			if int(k) >= len(accepted) {
				return irp.RequestNotAccepted, nil, nil
			}
			accepted[k] = s
			return irp.Success, nil, cd
		},
	})
	addr := bindListen(t, ls)
	require.Equal(t, irp.Success, lsEnable(t, ls, dispatch.EventAccept|dispatch.EventReceive|dispatch.EventDisconnect))

	sa := &unix.SockaddrInet4{Port: int(addr.Port()), Addr: addr.Addr().As4()}
	var clients [warm + n]int
	for k := range clients {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		require.NoError(t, err)
		clients[k] = fd
	}
	defer func() {
		for _, fd := range clients {
			_ = unix.Close(fd)
		}
	}()
	// dial connects clients[from:to] and waits until the accept event took them all.
	dial := func(from, to int) bool {
		for _, fd := range clients[from:to] {
			if unix.Connect(fd, sa) != nil {
				return false
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for int(got.Load()) < to {
			if time.Now().After(deadline) {
				return false
			}
			runtime.Gosched()
		}
		return true
	}
	require.True(t, dial(0, warm), "warm-up connections accepted") // pools and tables filled

	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ok := dial(warm, warm+n)
	runtime.ReadMemStats(&after)
	require.True(t, ok, "every connection accepted")
	objs := float64(after.Mallocs-before.Mallocs) / n
	bytes := float64(after.TotalAlloc-before.TotalAlloc) / n
	t.Logf("per accepted connection: %.2f allocations, %.0f bytes", objs, bytes)
	// 3 records (socket 256, engine.FD 48, connEvents 32); the engine's descriptor table
	// doubles now and then (one allocation over n, up to 8 KiB here: 32 bytes each).
	require.LessOrEqual(t, objs, 3.1, "accepting allocates more than the socket, its FD and its connEvents")
	require.LessOrEqual(t, bytes, 256.0+48+32+64, "accepting allocates more bytes than the records")

	for _, s := range accepted[:got.Load()] {
		closeSocketSync(t, s)
	}
	closeSocketSync(t, ls)
	finish(t, r)
}
