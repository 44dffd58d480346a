//go:build linux

package wsk

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// The slow-peer load: spConns connections; on each the application submits spChunk-byte
// sends (a fresh buffer each, as an application that does not recycle them: WSK does
// not copy, so every pending send pins its buffer) as fast as the provider admits them,
// while the peer reads spReadSize bytes every spReadEvery into a 4 KiB receive buffer.
// The provider may hold spLimit bytes of sends per socket; past that a send is refused
// with STATUS_INSUFFICIENT_RESOURCES, and the application waits for one of its sends to
// complete before trying again.
const (
	spLimit     = 256 << 10
	spChunk     = 64 << 10
	spReadSize  = 4 << 10
	spReadEvery = 10 * time.Millisecond
	spSendBuf   = 16 << 10 // SO_SNDBUF of the gowsk sockets: the kernel absorbs little
	spMaxSends  = 5000     // per connection, a bound on the loop besides the time
)

func spConns() int {
	if testing.Short() {
		return 16
	}
	return 64
}

func spDuration() time.Duration {
	if testing.Short() {
		return time.Second
	}
	return 3 * time.Second
}

// spConn is one gowsk connection of the load and what its sends did.
type spConn struct {
	ws   *dispatch.Socket
	peer net.Conn
	room chan struct{} // a send completed (sent): a refused one may fit now

	submitted, completed, refused, cancelled, failed, twice atomic.Int64
	sentBytes                                               atomic.Int64 // Information of the completed sends
	pinned                                                  atomic.Int64 // bytes of sends submitted and not yet completed
}

// send submits one send of a fresh buffer and reports its synchronous status.
func (c *spConn) send(t *testing.T) irp.Status {
	b := make([]byte, spChunk)
	b[0], b[len(b)-1] = 1, 2
	buf := dispatch.MakeBuf(b)
	i := irp.Allocate(c.ws.StackSize())
	var once atomic.Int32
	i.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		if once.Add(1) != 1 {
			c.twice.Add(1)
			return irp.MoreProcessingRequired
		}
		c.pinned.Add(-spChunk)
		switch st := i.IoStatus.Status; st {
		case irp.Success:
			assert.EqualValues(t, spChunk, i.IoStatus.Information, "a send completed short")
			c.sentBytes.Add(int64(i.IoStatus.Information))
			c.completed.Add(1)
			select { // room for a refused send
			case c.room <- struct{}{}:
			default:
			}
		case irp.InsufficientResources:
			c.refused.Add(1)
		case irp.Cancelled: // the close of the tbf variant
			c.cancelled.Add(1)
		default:
			assert.Failf(t, "send failed", "status %v", st)
			c.failed.Add(1)
		}
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	c.submitted.Add(1)
	c.pinned.Add(spChunk)
	return c.ws.Connection().Send(c.ws, &buf, 0, i)
}

// queued is the provider's own account of the send bytes it holds for c.
func (c *spConn) queued() int {
	s := sockOf(c.ws)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queuedBytes
}

// spPeerRead reads slowly until EOF and returns the bytes read.
func spPeerRead(c net.Conn, stop <-chan struct{}) (int64, error) {
	b := make([]byte, spReadSize)
	var n int64
	end := time.Now().Add(time.Minute)
	for k := 0; k < 1<<20 && time.Now().Before(end); k++ {
		if err := c.SetReadDeadline(time.Now().Add(waitLimit)); err != nil {
			return n, err
		}
		m, err := c.Read(b)
		n += int64(m)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		select {
		case <-stop: // draining at the end: full speed
		case <-time.After(spReadEvery):
		}
	}
	return n, errors.New("peer read loop bound reached")
}

// TestSlowPeerBoundedMemory (TESTING.md case 39): a gowsk application sends far faster
// than its peers take the data, on many connections. The provider's queue of each socket
// never holds more than Limits.MaxQueuedBytesPerSocket (its own account, sampled, and the
// application's: bytes of sends not yet completed); the overflow policy (sends refused
// with STATUS_INSUFFICIENT_RESOURCES, counted in Stats.LimitRejections) fires on every
// connection; no send is lost (submitted == completed + refused + cancelled once all is
// over, each IRP completed once); the heap stays within a bound derived from the limits;
// everything closes and Deregister returns. Two slow links:
//
//   - paced reader: the peer reads 4 KiB every 10 ms into a 4 KiB receive buffer; at the
//     end the queues drain, a graceful disconnect follows and the peer has read exactly
//     the bytes of the completed sends;
//   - tbf: (root, with tc) a private namespace whose loopback is a 32 Mbit/s token
//     bucket shared by every connection (some 60 KiB/s each; 256 kbit/s would complete
//     no send at all in the time); the peer reads at full speed but the link is the
//     bottleneck, so the queues never drain: the sockets are closed with sends
//     pending, which complete cancelled, and the peers are closed by the test (the
//     reset may be dropped by the full bucket).
func TestSlowPeerBoundedMemory(t *testing.T) {
	t.Run("paced reader", func(t *testing.T) { spRun(t, false) })
	t.Run("tbf", func(t *testing.T) {
		ns := enterNetns(t)
		if ns == nil {
			t.Skip("needs a private network namespace (root) for the rate limit")
		}
		tc, err := exec.LookPath("tc")
		if err != nil {
			t.Skip("no tc")
		}
		nsLinkMTU(t)
		out, err := exec.Command(tc, "qdisc", "add", "dev", "lo", "root", "tbf",
			"rate", "32mbit", "burst", "64kb", "latency", "50ms").CombinedOutput()
		if err != nil {
			t.Skipf("tc tbf: %v: %s", err, out)
		}
		spRun(t, true)
	})
}

// spRun is one variant of TestSlowPeerBoundedMemory: tbf says the link is rate limited
// (the peer reads at full speed), else the peer reads slowly.
func spRun(t *testing.T, tbf bool) {
	ignore := goleak.IgnoreCurrent()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseHeap := ms.HeapInuse

	// MaxPendingPerSocket is only a safety net: with spLimit/spChunk sends admitted at a
	// time it is never reached unless the byte bound fails.
	r, npi := newReg(t, WithLimits(Limits{MaxQueuedBytesPerSocket: spLimit, MaxPendingPerSocket: 64}), WithLoops(2))
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	addr := ln.Addr().(*net.TCPAddr).AddrPort()

	n := spConns()
	conns := make([]*spConn, n)
	for k := range conns {
		ws := newConnSocket(t, npi, AFInet)
		require.Equal(t, irp.Success, setOpt(ws, dispatch.SOLSocket, SOSndBuf, spSendBuf))
		require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
			return ws.Connection().Bind(ws, netip.AddrPort{}, 0, i)
		}).Status)
		require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
			return ws.Connection().Connect(ws, addr, 0, i)
		}).Status)
		require.NoError(t, ln.(*net.TCPListener).SetDeadline(time.Now().Add(waitLimit)))
		c, err := ln.Accept()
		require.NoError(t, err)
		defer c.Close()
		conns[k] = &spConn{ws: ws, peer: c, room: make(chan struct{}, 1)}
	}
	before := r.Stats()

	// The peers read (slowly unless the link is the bottleneck) until EOF or, on the
	// rate-limited link, the reset of the final close.
	drain := make(chan struct{})
	if tbf {
		close(drain)
	}
	var peers sync.WaitGroup
	peerBytes := make([]int64, n)
	for k, c := range conns {
		peers.Add(1)
		go func() {
			defer peers.Done()
			var err error
			peerBytes[k], err = spPeerRead(c.peer, drain)
			if !tbf || !(errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)) {
				assert.NoError(t, err, "peer %d", k)
			}
		}()
	}

	// The monitor samples every socket's queue and the heap until the senders stop.
	stopMon := make(chan struct{})
	monDone := make(chan struct{})
	var maxQueued, maxPinned int
	var maxHeap uint64
	var samples int
	go func() {
		defer close(monDone)
		var ms runtime.MemStats
		for k := 0; ; k++ {
			for _, c := range conns {
				maxQueued = max(maxQueued, c.queued())
				maxPinned = max(maxPinned, int(c.pinned.Load()))
			}
			if k%20 == 0 {
				runtime.ReadMemStats(&ms)
				maxHeap = max(maxHeap, ms.HeapInuse)
			}
			samples++
			select {
			case <-stopMon:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()

	// The senders: as fast as the provider admits, for spDuration.
	start := time.Now()
	end := make(chan struct{})
	stopAt := time.AfterFunc(spDuration(), func() { close(end) })
	defer stopAt.Stop()
	var senders sync.WaitGroup
	for _, c := range conns {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for k := 0; k < spMaxSends; k++ {
				select {
				case <-end:
					return
				default:
				}
				if c.send(t) != irp.InsufficientResources {
					continue
				}
				select { // refused: wait until one of ours completes
				case <-c.room:
				case <-end:
					return
				}
			}
		}()
	}
	senders.Wait()
	sendTime := time.Since(start)

	// The paced reader drains the queues at full speed now; the rate-limited link cannot,
	// and its sends stay pending until the close.
	if !tbf {
		close(drain)
	}
	deadline := time.Now().Add(waitLimit)
	for _, c := range conns {
		for !tbf && c.submitted.Load() != c.completed.Load()+c.refused.Load()+c.failed.Load() {
			require.True(t, time.Now().Before(deadline), "sends never completed: %d submitted, %d completed, %d refused",
				c.submitted.Load(), c.completed.Load(), c.refused.Load())
			time.Sleep(time.Millisecond)
		}
	}
	close(stopMon)
	<-monDone
	after := r.Stats()
	if tbf {
		for _, c := range conns {
			closeSocketSync(t, c.ws) // abortive: the pending sends complete cancelled
			c.peer.Close()           // its reading ends, whether the RST got through or not
		}
	}

	var submitted, completed, refused, cancelled, sent int64
	for k, c := range conns {
		require.Zero(t, c.twice.Load(), "conn %d: an IRP completed twice", k)
		require.Zero(t, c.failed.Load(), "conn %d: a send failed", k)
		require.Positive(t, c.refused.Load(), "conn %d: the overflow policy never fired", k)
		require.Zero(t, c.pinned.Load(), "conn %d: sends still pending", k)
		require.Zero(t, c.queued())
		submitted += c.submitted.Load()
		completed += c.completed.Load()
		refused += c.refused.Load()
		cancelled += c.cancelled.Load()
		sent += c.sentBytes.Load()
	}
	heapBound := baseHeap + uint64(2*n*(spLimit+spChunk)) + 16<<20
	t.Logf("%d connections for %v: %d sends submitted, %d completed (%d KiB), %d refused (Stats.LimitRejections %+d), %d cancelled by the close; %d samples",
		n, sendTime.Round(time.Millisecond), submitted, completed, sent>>10, refused,
		after.LimitRejections-before.LimitRejections, cancelled, samples)
	t.Logf("max queued per socket %d B (limit %d), max pinned by the application %d B; heap in use max %d MiB (baseline %d MiB, bound %d MiB)",
		maxQueued, spLimit, maxPinned, maxHeap>>20, baseHeap>>20, heapBound>>20)
	require.Equal(t, submitted, completed+refused+cancelled, "every send completed once: sent, refused or cancelled")
	require.EqualValues(t, refused, after.LimitRejections-before.LimitRejections, "every refusal counted")
	if tbf {
		require.Positive(t, cancelled, "the close found no send pending: the link was not the bottleneck")
	} else {
		require.Zero(t, cancelled)
	}
	require.LessOrEqual(t, maxQueued, spLimit, "a socket queued more than MaxQueuedBytesPerSocket")
	// The application's view may include one send being refused at the sampling instant.
	require.LessOrEqual(t, maxPinned, spLimit+spChunk, "the application's pending sends pinned more than the limit")
	require.LessOrEqual(t, maxHeap, heapBound, "heap beyond what the limits allow")

	if !tbf {
		// The end: a graceful disconnect each; every completed byte reached the peer.
		for _, c := range conns {
			require.Equal(t, irp.Success, disconnect(t, c.ws, nil, 0).wait().Status)
		}
	}
	peers.Wait()
	for k, c := range conns {
		if tbf {
			// The head send may have been partly in the kernel when the close cancelled it
			// (and reset the connection, which threw away what the kernel still held).
			require.LessOrEqual(t, peerBytes[k], c.sentBytes.Load()+spChunk, "conn %d: the peer read more than was sent", k)
		} else {
			require.Equal(t, c.sentBytes.Load(), peerBytes[k], "conn %d: the peer read other than what was sent", k)
			closeSocketSync(t, c.ws)
		}
		c.peer.Close()
	}
	require.Zero(t, r.Stats().IRPsPending)
	finish(t, r)
	// Process-wide: other tests of the package misuse IRPs on purpose.
	require.Equal(t, before.IRPViolations, r.Stats().IRPViolations, "an IRP completed twice or freed while pending")
	goleak.VerifyNone(t, ignore)
}
