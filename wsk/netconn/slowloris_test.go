//go:build linux

package netconn_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gowsk/gowsk/wsk"
	"github.com/gowsk/gowsk/wsk/netconn"
)

// Slowloris timing: the server's header and idle timeouts, how often a trickling
// attacker sends its next header byte, and how long past its deadline a connection may
// stay open before the test calls it "never reaped" (a bound, not a measurement: the
// reaping delays are logged).
const (
	slHeaderTimeout = time.Second // long enough that a legitimate request on a loaded 2-core CI machine meets it
	slIdleTimeout   = 1500 * time.Millisecond
	slTrickleEvery  = 250 * time.Millisecond
	slReapBound     = 10 * time.Second
	slLegitClients  = 20
)

// slAttackers is the number of trickling and of idle connections each: 2,000, or 1,000
// under the race detector (which allows 8,128 goroutines alive at once: each connection
// has one on either side). The portable engine parks two more goroutines per connection,
// and under the race detector that load alone pushes the legitimate requests past their
// own header deadline on two cores: there it is 400.
func slAttackers() int {
	switch {
	case testing.Short():
		return 100
	case raceEnabled && os.Getenv("GOWSK_ENGINE") == "portable":
		return 400
	case raceEnabled:
		return 1000
	}
	return 2000
}

// slOutcome is how one attacking connection ended, as its client saw it.
type slOutcome struct {
	eof, reset bool          // the server's FIN (read io.EOF), or a reset (read or write)
	delay      time.Duration // from the server's deadline to the client seeing the close
	early      bool          // an idle connection reaped by the header deadline before its request
	unexpected error         // anything else (a dial failure, a timeout past slReapBound)
}

// TestSlowlorisReaped (TESTING.md case 40): a net/http server on a gowsk listener, with
// ReadHeaderTimeout and IdleTimeout, under a slowloris attack: N connections trickle a
// header byte every 100 ms and never finish it, N more send one request and then sit
// idle. Meanwhile 20 legitimate clients keep making requests. Every attacking
// connection must be closed by the server (the header deadline or the idle deadline,
// both timers that cancel the pending WskReceive) within slReapBound of its deadline,
// every legitimate request must succeed, and afterwards the descriptors, the
// goroutines and the wsk sockets are back at their baseline. The reaping delays and the
// legitimate p99 latency are logged, not asserted.
func TestSlowlorisReaped(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	baseFD := slOpenFDs()
	require.Positive(t, baseFD, "no /proc/self/fd")
	reg, st := wsk.Register(&wsk.ClientNPI{Dispatch: newClientDispatch()}, wsk.WithLoops(2))
	require.Equal(t, 0, int(st))
	p, err := netconn.New(reg, netconn.Options{CloseTimeout: 5 * time.Second})
	require.NoError(t, err)
	ln, err := p.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()

	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hello")
		}),
		ReadHeaderTimeout: slHeaderTimeout,
		IdleTimeout:       slIdleTimeout,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	// The legitimate clients: one keep-alive connection each, requests back to back
	// until the attack is over.
	stop := make(chan struct{})
	var legitWG sync.WaitGroup
	var legitOK, legitFailed atomic.Int64
	latencies := make([][]time.Duration, slLegitClients)
	transports := make([]*http.Transport, slLegitClients)
	warm := make(chan struct{}, slLegitClients)
	for k := range slLegitClients {
		transports[k] = &http.Transport{MaxConnsPerHost: 1}
		legitWG.Add(1)
		go func() {
			defer legitWG.Done()
			cl := &http.Client{Transport: transports[k], Timeout: 10 * time.Second}
			end := time.Now().Add(60 * time.Second)
			for n := 0; n < 100000 && time.Now().Before(end); n++ {
				t0 := time.Now()
				ok := slGet(cl, "http://"+addr+"/")
				if !ok {
					legitFailed.Add(1)
				} else {
					legitOK.Add(1)
					latencies[k] = append(latencies[k], time.Since(t0))
				}
				if n == 0 {
					warm <- struct{}{}
				}
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
	}
	for range slLegitClients {
		select {
		case <-warm:
		case <-time.After(slReapBound):
			require.FailNow(t, "the legitimate clients never made their first request")
		}
	}
	fdWarm := slOpenFDs()
	before := p.Stats()

	// The attack.
	n := slAttackers()
	outcomes := make([]slOutcome, 2*n)
	dialSlots := make(chan struct{}, 64) // bounded concurrent dials (the SYN queue)
	var attackWG sync.WaitGroup
	attackStart := time.Now()
	for k := range 2 * n {
		attackWG.Add(1)
		go func() {
			defer attackWG.Done()
			dialSlots <- struct{}{}
			c, err := net.DialTimeout("tcp", addr, slReapBound)
			<-dialSlots
			if err != nil {
				outcomes[k].unexpected = err
				return
			}
			defer c.Close()
			if k%2 == 0 {
				outcomes[k] = slTrickle(c)
			} else {
				outcomes[k] = slIdle(c)
			}
		}()
	}
	attackWG.Wait()
	attackTime := time.Since(attackStart)
	close(stop)
	legitWG.Wait()

	var eofs, resets [2]int // [trickling, idle]
	var delays [2][]time.Duration
	var early []time.Duration // dial to close, for the idle connections reaped before their request
	for k, o := range outcomes {
		require.NoError(t, o.unexpected, "attacking connection %d (trickling: %v)", k, k%2 == 0)
		require.True(t, o.eof || o.reset)
		if o.eof {
			eofs[k%2]++
		} else {
			resets[k%2]++
		}
		if o.early {
			early = append(early, o.delay+slHeaderTimeout)
			continue
		}
		delays[k%2] = append(delays[k%2], o.delay)
	}
	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	t.Logf("%d trickling + %d idle connections, all reaped in %v; trickling: %d EOF, %d reset; idle: %d EOF, %d reset",
		n, n, attackTime, eofs[0], resets[0], eofs[1], resets[1])
	t.Logf("delay from the deadline to the close, as the clients saw it (below zero: the client goroutine ran late): trickling %s; idle %s", slQuantiles(delays[0]), slQuantiles(delays[1]))
	if len(early) > 0 {
		t.Logf("%d idle connections reaped by the header deadline before their request was answered (the client ran late); dial to close: %s",
			len(early), slQuantiles(early))
	}
	t.Logf("legitimate: %d requests ok, %d failed; latency %s", legitOK.Load(), legitFailed.Load(), slQuantiles(all))
	require.Zero(t, legitFailed.Load(), "a legitimate request failed")
	require.Positive(t, legitOK.Load())

	// The server closed every attacking connection: the adapter counted each close and
	// the linger engine finished them, and the descriptors are back where they were
	// before the attack (the legitimate connections are still open).
	deadline := time.Now().Add(slReapBound)
	for p.Stats().Linger.Closing != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	after := p.Stats()
	t.Logf("adapter stats during the attack: opened %+d, closed %+d; linger: %s",
		after.ConnsOpened-before.ConnsOpened, after.ConnsClosed-before.ConnsClosed, slLingerDelta(before, after))
	require.Zero(t, after.Linger.Closing, "background closes still running")
	require.GreaterOrEqual(t, after.ConnsOpened-before.ConnsOpened, uint64(2*n))
	require.GreaterOrEqual(t, after.ConnsClosed-before.ConnsClosed, uint64(2*n), "the server closed every attacker")
	require.Equal(t, after.ConnsOpened-before.ConnsOpened, after.ConnsClosed-before.ConnsClosed,
		"every connection accepted during the attack was closed (the legitimate ones stayed)")
	require.Zero(t, after.WSK.CallbackPanics+after.WSK.EnginePanics+after.WSK.Misuse)
	// Process-wide: other tests of the package may misuse IRPs on purpose.
	require.Equal(t, before.WSK.IRPViolations, after.WSK.IRPViolations, "an IRP completed twice or freed while pending")
	for k := 0; k < 10000 && slOpenFDs() > fdWarm; k++ {
		time.Sleep(time.Millisecond)
	}
	require.LessOrEqual(t, slOpenFDs(), fdWarm, "descriptors back at the pre-attack count")

	// Teardown: the server, the provider, the registration; then nothing of the test runs.
	for _, tr := range transports {
		tr.CloseIdleConnections()
	}
	require.NoError(t, srv.Close())
	select {
	case err := <-served:
		require.ErrorIs(t, err, http.ErrServerClosed)
	case <-time.After(slReapBound):
		require.FailNow(t, "Serve did not return")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, p.Shutdown(ctx))
	reg.Deregister()
	final := reg.Stats()
	require.Zero(t, final.SocketsOpen)
	require.Equal(t, final.SocketsCreated, final.SocketsClosed)
	require.Zero(t, final.IRPsPending)
	goleak.VerifyNone(t, ignore)
	for k := 0; k < 10000 && slOpenFDs() > baseFD; k++ {
		time.Sleep(time.Millisecond)
	}
	require.LessOrEqual(t, slOpenFDs(), baseFD, "descriptors back at the baseline")
}

// slTrickle sends the start of a request, then one more header byte every
// slTrickleEvery, never the blank line, until the server closes the connection.
func slTrickle(c net.Conn) slOutcome {
	start := time.Now()
	head := []byte("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	if _, err := c.Write(head); err != nil {
		return slEnded(err, start.Add(slHeaderTimeout))
	}
	b := make([]byte, 512)
	limit := start.Add(slHeaderTimeout + slReapBound)
	for k := 0; k < 1000; k++ {
		now := time.Now()
		if now.After(limit) {
			return slOutcome{unexpected: errors.New("trickling connection never reaped")}
		}
		if err := c.SetReadDeadline(now.Add(slTrickleEvery)); err != nil {
			return slOutcome{unexpected: err}
		}
		n, err := c.Read(b)
		if n > 0 {
			return slOutcome{unexpected: errors.New("the server answered a request it never got whole")}
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return slEnded(err, start.Add(slHeaderTimeout))
		}
		if _, err := c.Write([]byte{'a'}); err != nil {
			return slEnded(err, start.Add(slHeaderTimeout))
		}
	}
	return slOutcome{unexpected: errors.New("trickling connection never reaped (iterations)")}
}

// slIdle makes one request, reads the reply, then sends nothing until the server closes
// the idle connection. Under the load the goroutine may run its request later than the
// server's header deadline (the server starts that clock when it accepts): the server
// then reaps the connection before answering, which counts as reaped, early.
func slIdle(c net.Conn) slOutcome {
	dialled := time.Now()
	if err := c.SetDeadline(dialled.Add(slReapBound)); err != nil {
		return slOutcome{unexpected: err}
	}
	br := bufio.NewReader(c)
	var resp *http.Response
	_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if err == nil {
		resp, err = http.ReadResponse(br, nil)
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = io.EOF
		}
		o := slEnded(err, dialled.Add(slHeaderTimeout))
		o.early = true
		return o
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return slOutcome{unexpected: errors.Join(err, errors.New(resp.Status))}
	}
	idleFrom := time.Now()
	if err := c.SetReadDeadline(idleFrom.Add(slIdleTimeout + slReapBound)); err != nil {
		return slOutcome{unexpected: err}
	}
	n, err := br.Read(make([]byte, 1))
	if n > 0 {
		return slOutcome{unexpected: errors.New("bytes on an idle connection")}
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return slOutcome{unexpected: errors.New("idle connection never reaped")}
	}
	return slEnded(err, idleFrom.Add(slIdleTimeout))
}

// slEnded classifies the error that ended an attacking connection.
func slEnded(err error, deadline time.Time) slOutcome {
	o := slOutcome{delay: time.Since(deadline)}
	switch {
	case errors.Is(err, io.EOF):
		o.eof = true
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		o.reset = true
	default:
		o.unexpected = err
	}
	return o
}

// slGet makes one request and reads the whole reply.
func slGet(cl *http.Client, url string) bool {
	resp, err := cl.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return err == nil && resp.StatusCode == http.StatusOK && string(b) == "hello"
}

// slQuantiles formats min, p50, p99 and max of d.
func slQuantiles(d []time.Duration) string {
	if len(d) == 0 {
		return "none"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	q := func(f float64) time.Duration { return s[int(f*float64(len(s)-1))] }
	return "min " + s[0].Round(time.Millisecond).String() + ", p50 " + q(0.5).Round(time.Millisecond).String() + ", p99 " + q(0.99).Round(time.Millisecond).String() +
		", max " + s[len(s)-1].Round(time.Millisecond).String()
}

// slOpenFDs counts the process's descriptors (0 without /proc).
func slOpenFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(ents) - 1 // ReadDir's own handle
}

// slLingerDelta formats how the linger engine ended the closes between two snapshots.
func slLingerDelta(before, after netconn.Stats) string {
	b, a := before.Linger, after.Linger
	return fmt.Sprintf("graceful %+d, plain %+d, reset: hard %+d, data %+d, timeout %+d, refused %+d, peer %+d",
		a.Graceful-b.Graceful, a.Plain-b.Plain, a.ResetHard-b.ResetHard, a.ResetData-b.ResetData,
		a.ResetTimeout-b.ResetTimeout, a.ResetRefused-b.ResetRefused, a.ResetPeer-b.ResetPeer)
}
