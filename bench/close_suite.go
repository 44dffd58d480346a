package main

// The close suite: how long gowsk's WskCloseSocket takes on a connection with K receive
// IRPs pending, measured in a child process pinned to CPU0 (GOMAXPROCS=1) like a server.
//
// One iteration: connect a wsk socket to a net.Listener in the same process, post K
// Receive IRPs (no data ever arrives, so all K pend), then time from the CloseSocket
// call to the close IRP's completion routine. The close protocol must complete every
// pending IRP with STATUS_CANCELLED before the close IRP, which completes last; the
// receive routines count both, and any IRP that is not cancelled, or that completes
// after the close IRP, counts as an error.
//
// The stdlib row is the nearest Go equivalent: K goroutines blocked in Read on one
// net.Conn, timed from Close until every Read has returned net.ErrClosed. The raw row is
// the floor: the abortive close the provider performs, by hand, with no IRP
// (setsockopt SO_LINGER{1,0} then close(2) on a connected blocking socket); K does not
// apply to it. The project's goal for close is wsk ≤ raw + K × 1 µs.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
	"golang.org/x/sys/unix"
)

// defaultPending is K for the close suite when -pending is not given.
var defaultPending = []int{1, 100, 10000}

// closeMaxIters caps the iterations of one close round; at least closeMinIters run
// whatever the -duration budget.
const (
	closeMaxIters = 1000
	closeMinIters = 3
)

// closeResult is the closebench child's report of one round.
type closeResult struct {
	Impl     string  `json:"impl"`
	Pending  int     `json:"pending"`
	Iters    int     `json:"iters"`
	MedianUs float64 `json:"median_us"`
	MinUs    float64 `json:"min_us"`
	MaxUs    float64 `json:"max_us"`
	// Errors: receives not completed with STATUS_CANCELLED, completed after the close
	// IRP, not pending when posted, or a close IRP not successful.
	Errors    uint64 `json:"errors"`
	Cancelled uint64 `json:"cancelled"`
}

// closeMain is the `closebench` child mode: one round of one implementation.
func closeMain(args []string) int {
	fs := flag.NewFlagSet("closebench", flag.ContinueOnError)
	impl := fs.String("impl", "wsk", "wsk, stdlib or raw")
	k := fs.Int("pending", 1, "receives pending at close")
	dur := fs.Duration("duration", time.Second, "time budget for the iterations")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *k <= 0 || (*impl != "wsk" && *impl != "stdlib" && *impl != "raw") {
		fmt.Fprintln(os.Stderr, "closebench: -impl wsk|stdlib|raw and a positive -pending required")
		return 2
	}
	raiseNofile()
	res, err := runCloseRound(*impl, *k, *dur)
	if err != nil {
		fmt.Fprintln(os.Stderr, "closebench:", err)
		return 1
	}
	b, _ := json.Marshal(res)
	fmt.Printf("result %s\n", b)
	return 0
}

// peerListener accepts the peer ends and hands them over one by one.
type peerListener struct {
	ln    net.Listener
	conns chan net.Conn
	done  chan struct{}
}

func newPeerListener() (*peerListener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &peerListener{ln: ln, conns: make(chan net.Conn, 4), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.conns <- c
		}
	}()
	return p, nil
}

func (p *peerListener) next() (net.Conn, error) {
	select {
	case c := <-p.conns:
		return c, nil
	case <-time.After(10 * time.Second):
		return nil, errors.New("peer never accepted")
	}
}

func (p *peerListener) close() {
	p.ln.Close()
	<-p.done
	for {
		select {
		case c := <-p.conns:
			c.Close()
		default:
			return
		}
	}
}

// runCloseRound runs one warm-up iteration and then iterations until dur is spent
// (closeMinIters..closeMaxIters), and reports the close times.
func runCloseRound(impl string, k int, dur time.Duration) (closeResult, error) {
	res := closeResult{Impl: impl, Pending: k}
	peer, err := newPeerListener()
	if err != nil {
		return res, err
	}
	defer peer.close()
	var iter func() (time.Duration, error)
	var stop func()
	if impl == "wsk" {
		b, err := newWSKCloseBench(peer, k)
		if err != nil {
			return res, err
		}
		b.res = &res
		iter, stop = b.iteration, b.stop
	} else if impl == "raw" {
		b := &rawCloseBench{peer: peer}
		iter, stop = b.iteration, func() {}
	} else {
		b := &stdCloseBench{peer: peer, k: k, res: &res}
		iter, stop = b.iteration, func() {}
	}
	defer stop()
	if _, err := iter(); err != nil { // warm-up: pools, first connection
		return res, err
	}
	// The warm-up's verification counts too: a wrong outcome is never hidden.
	var times []float64
	start := time.Now()
	for len(times) < closeMaxIters && (len(times) < closeMinIters || time.Since(start) < dur) {
		d, err := iter()
		if err != nil {
			return res, err
		}
		times = append(times, float64(d)/1e3)
	}
	res.Iters = len(times)
	res.MedianUs, res.MinUs, res.MaxUs = median(times)
	return res, nil
}

// ---- wsk ----

// wskCloseBench holds the registration and K reusable receive IRPs with their buffers.
type wskCloseBench struct {
	p      *wskProvider
	peer   *peerListener
	k      int
	remote netip.AddrPort
	irps   []*irp.IRP
	bufs   []dispatch.Buf
	mem    []byte
	close  *irp.IRP
	round  closeRoundState
	res    *closeResult
}

// closeRoundState is what the routines of one iteration report. Only atomics: the
// receive routines run on the goroutine of the close protocol's step 5.
type closeRoundState struct {
	completed  atomic.Int64 // receive routines run
	notCancel  atomic.Int64 // …with a status other than STATUS_CANCELLED
	late       atomic.Int64 // …after the close IRP completed
	closed     atomic.Bool
	atClose    int64 // completed, read by the close routine
	closeSt    irp.Status
	closedAt   time.Time
	closedDone chan struct{}
}

func newWSKCloseBench(peer *peerListener, k int) (*wskCloseBench, error) {
	lim := wsk.Limits{MaxPendingPerSocket: max(k+16, wsk.DefaultLimits.MaxPendingPerSocket)}
	p, err := openWSK(lim, 0)
	if err != nil {
		return nil, err
	}
	b := &wskCloseBench{p: p, peer: peer, k: k, remote: peer.ln.Addr().(*net.TCPAddr).AddrPort()}
	b.mem = make([]byte, 16*k)
	b.bufs = make([]dispatch.Buf, k)
	for j := range b.bufs {
		b.bufs[j] = dispatch.MakeBuf(b.mem[16*j : 16*j+16])
	}
	return b, nil
}

func (b *wskCloseBench) stop() {
	for _, i := range b.irps {
		i.Free()
	}
	if b.close != nil {
		b.close.Free()
	}
	b.p.close()
}

func wskCloseRecvDone(_ *irp.Device, i *irp.IRP, ctx any) irp.Status {
	r := ctx.(*closeRoundState)
	if i.IoStatus.Status != irp.Cancelled {
		r.notCancel.Add(1)
	}
	if r.closed.Load() {
		r.late.Add(1)
	}
	r.completed.Add(1)
	return irp.MoreProcessingRequired
}

func wskCloseDone(_ *irp.Device, i *irp.IRP, ctx any) irp.Status {
	r := ctx.(*closeRoundState)
	r.closedAt = time.Now()
	r.atClose = r.completed.Load()
	r.closeSt = i.IoStatus.Status
	r.closed.Store(true)
	close(r.closedDone)
	return irp.MoreProcessingRequired
}

// iteration connects, posts K receives, closes and returns the time from the
// CloseSocket call to the close IRP's completion.
func (b *wskCloseBench) iteration() (time.Duration, error) {
	npi := b.p.npi
	res := wsk.Call(context.Background(), 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.SocketConnect(npi.Client, wsk.SockStream, wsk.IPProtoTCP, netip.AddrPort{}, b.remote, 0, nil, nil, i)
	})
	if res.Status != irp.Success {
		return 0, fmt.Errorf("WskSocketConnect: %v", res.Status)
	}
	s := res.Object.(*dispatch.Socket)
	pc, err := b.peer.next()
	if err != nil {
		closeSync(s)
		return 0, err
	}
	defer pc.Close()
	if b.irps == nil {
		b.irps = make([]*irp.IRP, b.k)
		for j := range b.irps {
			b.irps[j] = irp.Allocate(s.StackSize())
		}
		b.close = irp.Allocate(s.StackSize())
	}
	r := &b.round
	r.completed.Store(0)
	r.notCancel.Store(0)
	r.late.Store(0)
	r.closed.Store(false)
	r.closedDone = make(chan struct{})
	conn := s.Connection()
	var notPending int64
	for j, i := range b.irps {
		i.Reuse(irp.Success)
		i.SetCompletionRoutine(wskCloseRecvDone, r, irp.InvokeAlways)
		if conn.Receive(s, &b.bufs[j], 0, i) != irp.Pending {
			notPending++
		}
	}
	b.close.Reuse(irp.Success)
	b.close.SetCompletionRoutine(wskCloseDone, r, irp.InvokeAlways)
	t0 := time.Now()
	s.Basic().CloseSocket(s, b.close)
	select {
	case <-r.closedDone:
	case <-time.After(30 * time.Second):
		return 0, fmt.Errorf("close with %d pending receives did not complete in 30 s", b.k)
	}
	d := r.closedAt.Sub(t0)
	errs := notPending + r.notCancel.Load() + r.late.Load() + int64(b.k) - r.atClose
	if r.closeSt != irp.Success {
		errs++
	}
	if b.res != nil {
		b.res.Errors += uint64(errs)
		b.res.Cancelled += uint64(r.atClose - r.notCancel.Load())
	}
	if errs != 0 {
		fmt.Fprintf(os.Stderr, "closebench: K=%d: %d not pending, %d not cancelled, %d after the close IRP, %d of %d done at close, close %v\n",
			b.k, notPending, r.notCancel.Load(), r.late.Load(), r.atClose, b.k, r.closeSt)
	}
	return d, nil
}

// ---- stdlib ----

type stdCloseBench struct {
	peer *peerListener
	k    int
	res  *closeResult
}

func (b *stdCloseBench) iteration() (time.Duration, error) {
	c, err := net.Dial("tcp", b.peer.ln.Addr().String())
	if err != nil {
		return 0, err
	}
	pc, err := b.peer.next()
	if err != nil {
		c.Close()
		return 0, err
	}
	defer pc.Close()
	var started, bad atomic.Int64
	var wg sync.WaitGroup
	wg.Add(b.k)
	for j := 0; j < b.k; j++ {
		go func() {
			defer wg.Done()
			var one [1]byte
			started.Add(1)
			if _, err := c.Read(one[:]); !errors.Is(err, net.ErrClosed) {
				bad.Add(1)
			}
		}()
	}
	for started.Load() < int64(b.k) {
		runtime.Gosched()
	}
	time.Sleep(time.Millisecond) // let the last readers park in the poller
	t0 := time.Now()
	c.Close()
	wg.Wait()
	d := time.Since(t0)
	if b.res != nil {
		b.res.Errors += uint64(bad.Load())
		b.res.Cancelled += uint64(int64(b.k) - bad.Load())
	}
	return d, nil
}

// ---- raw ----

// rawCloseBench times the abortive close the provider performs (close protocol step 6
// and 7), done by hand on a plain descriptor: the floor of the wsk row.
type rawCloseBench struct {
	peer *peerListener
}

func (b *rawCloseBench) iteration() (time.Duration, error) {
	ap := b.peer.ln.Addr().(*net.TCPAddr).AddrPort()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		unix.Close(fd)
		return 0, err
	}
	pc, err := b.peer.next()
	if err != nil {
		unix.Close(fd)
		return 0, err
	}
	defer pc.Close()
	t0 := time.Now()
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	err = unix.Close(fd)
	return time.Since(t0), err
}

// ---- driver side ----

// closeImpls picks the close suite's rows from -servers: "stdlib" if listed, and "wsk"
// with its floor "raw" if any wsk variant is.
func closeImpls(servers []string) []string {
	var out []string
	if slices.Contains(servers, "stdlib") {
		out = append(out, "stdlib")
	}
	if slices.ContainsFunc(servers, isGowsk) {
		out = append(out, "wsk", "raw")
	}
	return out
}

// runCloseOne runs one round of one implementation in a child pinned to CPU0.
func runCloseOne(cfg *config, impl string, k int) (runResult, error) {
	r := runResult{Suite: "close", Server: impl, Conns: 1, Pending: k}
	ch, err := startChild(cfg.self, 0, "closebench", "-impl", impl, "-pending", strconv.Itoa(k),
		"-duration", cfg.duration.String())
	if err != nil {
		return r, err
	}
	defer ch.wait()
	line, err := ch.expect("result ", cfg.duration+2*time.Minute)
	if err != nil {
		return r, fmt.Errorf("close %s K=%d: %w", impl, k, err)
	}
	var cr closeResult
	if err := json.Unmarshal([]byte(line), &cr); err != nil {
		return r, fmt.Errorf("bad close result: %w", err)
	}
	r.Requests = uint64(cr.Iters)
	r.Errors = cr.Errors
	r.CloseUs = cr.MedianUs
	return r, nil
}
