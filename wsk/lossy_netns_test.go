//go:build linux

package wsk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// The lossy-link load: lyConns connections each echo lyBytes through a plain net peer
// while lyLossPercent of the segments are dropped.
const (
	lyLossPercent = 5
	lyChunk       = 32 << 10
	lyBudget      = 20 * time.Second // every call and wait of the load ends by then
)

func lyConns() int {
	if testing.Short() {
		return 8
	}
	return 64
}

func lyBytes() int {
	if testing.Short() {
		return 128 << 10
	}
	return 1 << 20
}

// lyDropFilter is a classic BPF socket filter that drops lyLossPercent of the packets
// at random (the kernel's random ancillary word) and keeps the others whole. TCP treats
// a segment a receive filter dropped as lost: the sender retransmits it.
func lyDropFilter() []unix.SockFilter {
	const skfAdRandom = 0xfffff000 + 56 // SKF_AD_OFF + SKF_AD_RANDOM
	threshold := uint32(uint64(lyLossPercent) * (1 << 32) / 100)
	return []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: skfAdRandom},
		{Code: unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, Jt: 0, Jf: 1, K: threshold},
		{Code: unix.BPF_RET | unix.BPF_K, K: 0xffffffff}, // keep
		{Code: unix.BPF_RET | unix.BPF_K, K: 0},          // drop
	}
}

func lyAttachDrop(fd int) error {
	f := lyDropFilter()
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
		&unix.SockFprog{Len: uint16(len(f)), Filter: &f[0]})
}

// lyInjectLoss makes the namespace's loopback lossy: netem on lo when the kernel has it,
// else the random-drop socket filter, which the caller attaches to every socket (it
// reports false then). It runs tc on the calling goroutine's thread, which is in the
// namespace, so the child process is too.
func lyInjectLoss(t *testing.T) (netem bool) {
	t.Helper()
	tc, err := exec.LookPath("tc")
	if err != nil {
		t.Log("no tc: loss injected by a socket filter")
		return false
	}
	out, err := exec.Command(tc, "qdisc", "add", "dev", "lo", "root", "netem", "loss", "5%").CombinedOutput()
	if err != nil {
		t.Logf("tc netem unavailable (%v: %s): loss injected by a socket filter", err, strings.TrimSpace(string(out)))
		return false
	}
	return true
}

// nsLinkMTU gives the namespace's lo the MTU of a real link (the calling goroutine must
// be the one that entered the namespace): at lo's 64 KiB every lost or queued packet is
// a 64 KiB hole, and a token bucket drops whole bursts.
func nsLinkMTU(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("ip", "link", "set", "lo", "mtu", "1500").CombinedOutput(); err != nil {
		t.Logf("ip link set lo mtu 1500: %v: %s", err, out)
	}
}

// lyCall is a synchronous WSK call off the test goroutine (no require), bounded by ctx.
func lyCall(ctx context.Context, ws *dispatch.Socket, fn func(*irp.IRP) irp.Status) irp.IoStatusBlock {
	return Call(ctx, ws.StackSize(), fn)
}

// TestLossyLinkIntegrity (TESTING.md case 38): in a private network namespace whose
// loopback drops 5% of the segments (netem when the kernel has it, else a random-drop
// socket filter on both ends of every connection), many gowsk connection sockets each
// echo a pseudo-random stream through a plain net peer. Every byte comes back intact
// (compared in full), no send or receive fails (no spurious abort), every connection
// ends with a clean FIN both ways and no RST, and the namespace's Tcp RetransSegs rose:
// the loss was real. Needs root (the namespace); skipped otherwise.
func TestLossyLinkIntegrity(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	ns := enterNetns(t)
	if ns == nil {
		t.Skip("needs a private network namespace (root): its TCP counters prove the loss, and netem must not touch the host's loopback")
	}
	nsLinkMTU(t)
	netem := lyInjectLoss(t)
	r, npi := newReg(t, WithLoops(2))

	lc := net.ListenConfig{}
	if !netem {
		lc.Control = func(_, _ string, rc syscall.RawConn) error {
			var ferr error
			if err := rc.Control(func(fd uintptr) { ferr = lyAttachDrop(int(fd)) }); err != nil {
				return err
			}
			return ferr
		}
	}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	addr := ln.Addr().(*net.TCPAddr).AddrPort()

	// The peer echoes each connection until EOF, then closes (a FIN: it read everything).
	var peers sync.WaitGroup
	var peerErrs atomic.Int64
	peers.Add(1)
	go func() {
		defer peers.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			peers.Add(1)
			go func() {
				defer peers.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(lyBudget))
				if _, err := io.Copy(c, c); err != nil {
					peerErrs.Add(1)
					assert.NoError(t, err, "peer echo")
				}
			}()
		}
	}()

	before := nsCounters(t)
	n, size := lyConns(), lyBytes()
	wss := make([]*dispatch.Socket, n)
	connects := make([]*pcall, n)
	for k := range wss {
		ws := newConnSocket(t, npi, AFInet)
		if !netem {
			require.NoError(t, lyAttachDrop(sockOf(ws).fd))
		}
		require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
			return ws.Connection().Bind(ws, netip.AddrPort{}, 0, i)
		}).Status)
		// All the connects at once (a lost SYN costs a second): waited for below.
		connects[k] = start(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
			return ws.Connection().Connect(ws, addr, 0, i)
		})
		wss[k] = ws
	}
	for k, c := range connects {
		require.Equal(t, irp.Success, c.wait().Status, "connect %d", k)
	}

	ctx, cancel := context.WithTimeout(context.Background(), lyBudget)
	defer cancel()
	started := time.Now()
	var wg sync.WaitGroup
	var aborts, mismatches, eofs atomic.Int64
	var echoed atomic.Int64
	for k, ws := range wss {
		data := make([]byte, size)
		rng := rand.NewChaCha8([32]byte{byte(k), byte(k >> 8)})
		_, _ = rng.Read(data)
		want := sha256.Sum256(data)
		wg.Add(2)
		go func() { // the sender: the stream in chunks, then a graceful disconnect (FIN)
			defer wg.Done()
			for off := 0; off < size; off += lyChunk {
				buf := dispatch.MakeBuf(data[off:min(off+lyChunk, size)])
				io := lyCall(ctx, ws, func(i *irp.IRP) irp.Status { return ws.Connection().Send(ws, &buf, 0, i) })
				if !assert.Equal(t, irp.Success, io.Status, "conn %d send at %d", k, off) {
					aborts.Add(1)
					return
				}
			}
			io := lyCall(ctx, ws, func(i *irp.IRP) irp.Status { return ws.Connection().Disconnect(ws, nil, 0, i) })
			if !assert.Equal(t, irp.Success, io.Status, "conn %d disconnect", k) {
				aborts.Add(1)
			}
		}()
		go func() { // the receiver: the echo until the peer's FIN
			defer wg.Done()
			got := make([]byte, 0, size)
			b := make([]byte, lyChunk)
			for len(got) <= size {
				buf := dispatch.MakeBuf(b)
				io := lyCall(ctx, ws, func(i *irp.IRP) irp.Status { return ws.Connection().Receive(ws, &buf, 0, i) })
				if !assert.Equal(t, irp.Success, io.Status, "conn %d receive at %d", k, len(got)) {
					aborts.Add(1)
					return
				}
				if io.Information == 0 {
					eofs.Add(1)
					break
				}
				got = append(got, b[:io.Information]...)
			}
			echoed.Add(int64(len(got)))
			if sha256.Sum256(got) != want || !bytes.Equal(got, data) {
				mismatches.Add(1)
				assert.Failf(t, "echo corrupted", "conn %d: %d bytes back of %d", k, len(got), size)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(started)
	for _, ws := range wss {
		closeSocketSync(t, ws)
	}
	require.NoError(t, ln.Close())
	peers.Wait()
	after := nsCounters(t)
	retrans := after["Tcp.RetransSegs"] - before["Tcp.RetransSegs"]
	d := rstDeltaOf(before, after)
	how := "socket filter on both ends"
	if netem {
		how = "netem on lo"
	}
	delta := func(k string) int64 { return after[k] - before[k] }
	outSegs := delta("Tcp.OutSegs")
	t.Logf("%d connections × %d KiB echoed in %v with %d%% loss (%s): %d MiB back, %d FINs seen",
		n, size>>10, elapsed.Round(time.Millisecond), lyLossPercent, how, echoed.Load()>>20, eofs.Load())
	t.Logf("OutSegs %+d, RetransSegs %+d (%.2f%%), TCPLossProbes %+d, TCPLostRetransmit %+d, TCPTimeouts %+d; %s",
		outSegs, retrans, 100*float64(retrans)/float64(max(outSegs, 1)), delta("TcpExt.TCPLossProbes"),
		delta("TcpExt.TCPLostRetransmit"), delta("TcpExt.TCPTimeouts"), d)
	require.Zero(t, aborts.Load(), "spurious aborts")
	require.Zero(t, mismatches.Load(), "corrupted echoes")
	require.Zero(t, peerErrs.Load(), "peer errors")
	require.EqualValues(t, n, eofs.Load(), "every connection ended with the peer's FIN")
	require.EqualValues(t, int64(n*size), echoed.Load())
	// A loss-free loopback retransmits too (tail-loss probes, a few per mille at most
	// here); 5% loss makes it several per cent. One per cent of the segments sent tells
	// the two apart.
	require.GreaterOrEqual(t, retrans*100, outSegs, "retransmissions under 1 per cent of the segments: the loss was not active")
	require.Zero(t, d.OutRsts, "a reset on a lossy link: %s", d)
	st := r.Stats()
	require.Zero(t, st.ResetsSent)
	finish(t, r)
	goleak.VerifyNone(t, ignore)
}
