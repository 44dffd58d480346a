package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult is the load generator's report, one JSON line on stdout
// prefixed by "result ".
type loadResult struct {
	Conns      int     `json:"conns"`
	Dialled    int     `json:"dialled"`
	Requests   uint64  `json:"requests"`
	Errors     uint64  `json:"errors"`
	FDLimited  bool    `json:"fd_limited"`
	Seconds    float64 `json:"seconds"`
	P50us      float64 `json:"p50_us"`
	P99us      float64 `json:"p99_us"`
	P999us     float64 `json:"p999_us"`
	CloseP50us float64 `json:"close_p50_us,omitempty"`
	CloseP99us float64 `json:"close_p99_us,omitempty"`
}

// loadMain is the `load` mode. Protocol with the driver (line based):
//
//	load → "dialled N ERRS FDLIMITED"  after every connection is up (the barrier)
//	driver → any line on stdin         start traffic ("go") or, idle suite, quit
//	load → "measuring"                 warmup over, measurement window opens
//	load → "result {json}"             window closed
//
// In -churn mode there is no dial phase: it prints "measuring" at once.
func loadMain(args []string) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	target := fs.String("target", "", "server HOST:PORT")
	conns := fs.Int("conns", 100, "connections")
	payload := fs.Int("payload", 64, "bytes per request")
	dur := fs.Duration("duration", 5*time.Second, "measurement window")
	warm := fs.Duration("warmup", time.Second, "warmup before measuring")
	rate := fs.Float64("rate", 0, "open-loop total requests/s (0 = closed loop)")
	churn := fs.Bool("churn", false, "connect, one echo, close, repeat")
	idle := fs.Bool("idle", false, "dial and hold connections idle until stdin closes or a line arrives")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *target == "" || *conns <= 0 || *payload <= 0 {
		fmt.Fprintln(os.Stderr, "load: -target, positive -conns and -payload required")
		return 2
	}
	raiseNofile()
	stdin := bufio.NewReader(os.Stdin)
	if *churn {
		fmt.Println("measuring")
		res := runChurn(*target, *conns, *payload, *dur)
		printResult(res)
		return 0
	}
	cs, dialErrs, fdLim := dialAll(*target, *conns)
	fmt.Printf("dialled %d %d %v\n", len(cs), dialErrs, fdLim)
	_, _ = stdin.ReadString('\n')
	res := loadResult{Conns: *conns, Dialled: len(cs), Errors: uint64(dialErrs), FDLimited: fdLim}
	if !*idle && len(cs) > 0 {
		runEcho(cs, *payload, *warm, *dur, *rate, &res)
	} else {
		fmt.Println("measuring")
	}
	for _, c := range cs {
		c.Close()
	}
	printResult(res)
	return 0
}

func printResult(r loadResult) {
	b, _ := json.Marshal(r)
	fmt.Printf("result %s\n", b)
}

// dialAll opens n connections with bounded parallelism before any traffic
// flows (ramping dials under load made setup take minutes here).
func dialAll(target string, n int) ([]net.Conn, int, bool) {
	var (
		mu    sync.Mutex
		cs    = make([]net.Conn, 0, n)
		errs  int
		fdLim bool
		next  atomic.Int64
		wg    sync.WaitGroup
	)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				c, err := net.DialTimeout("tcp", target, 10*time.Second)
				mu.Lock()
				if err != nil {
					errs++
					if isFDLimit(err) {
						fdLim = true
					}
				} else {
					cs = append(cs, c)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return cs, errs, fdLim
}

// runEcho drives every connection with one goroutine. Closed loop: the
// intended send time of a request is the completion of the previous one,
// so at high concurrency latency is mostly queueing (C in flight ÷ rate).
// Open loop (-rate): sends are scheduled at fixed intervals and latency
// runs from the scheduled time, so a stalled server is charged for every
// request it delayed (no coordinated omission).
func runEcho(cs []net.Conn, size int, warm, dur time.Duration, rate float64, res *loadResult) {
	var interval time.Duration
	if rate > 0 {
		interval = time.Duration(float64(len(cs)) / rate * float64(time.Second))
	}
	runLoad(len(cs), warm, dur, res, func(i int, w loadWindow, h *hist) (n, e uint64) {
		c := cs[i]
		out := make([]byte, size)
		in := make([]byte, size)
		_ = c.SetDeadline(w.end.Add(5 * time.Second))
		intended := time.Now()
		if interval > 0 {
			// Spread first sends over one interval.
			intended = w.start.Add(interval * time.Duration(i) / time.Duration(len(cs)))
		}
		for {
			if interval > 0 {
				if d := time.Until(intended); d > 0 {
					time.Sleep(d)
				}
			}
			if !intended.Before(w.end) {
				return n, e
			}
			if _, err := c.Write(out); err != nil {
				return n, e + 1
			}
			if _, err := io.ReadFull(c, in); err != nil {
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					e++
				}
				return n, e
			}
			done := time.Now()
			if !intended.Before(w.measureAt) {
				h.record(done.Sub(intended))
				n++
			}
			if interval > 0 {
				intended = intended.Add(interval)
			} else {
				intended = done
			}
		}
	})
}

// loadWindow is the time line of one measured run: from start, a warm-up until
// measureAt, then the measured window until end.
type loadWindow struct{ start, measureAt, end time.Time }

// runLoad drives n connections, each with drive on a goroutine of its own, through a
// warm-up of warm and a measured window of dur; drive records the latencies it measured
// into h and returns its requests and errors. res gets the totals and the quantiles.
func runLoad(n int, warm, dur time.Duration, res *loadResult, drive func(i int, w loadWindow, h *hist) (reqs, errs uint64)) {
	w := loadWindow{start: time.Now()}
	w.measureAt = w.start.Add(warm)
	w.end = w.measureAt.Add(dur)
	var (
		mu     sync.Mutex
		total  hist
		reqs   uint64
		errs   uint64
		wg     sync.WaitGroup
		marker sync.Once
	)
	go func() {
		time.Sleep(time.Until(w.measureAt))
		marker.Do(func() { fmt.Println("measuring") })
	}()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := new(hist)
			r, e := drive(i, w, h)
			mu.Lock()
			total.merge(h)
			reqs += r
			errs += e
			mu.Unlock()
		}()
	}
	wg.Wait()
	marker.Do(func() { fmt.Println("measuring") })
	res.Requests = reqs
	res.Errors += errs
	res.Seconds = dur.Seconds()
	res.P50us, res.P99us, res.P999us = total.quantile(0.5), total.quantile(0.99), total.quantile(0.999)
}

// runChurn runs `workers` loops of dial, one echo, close. Requests counts
// completed cycles; the latency quantiles are of the whole cycle and the
// close quantiles of Close alone.
func runChurn(target string, workers, size int, dur time.Duration) loadResult {
	end := time.Now().Add(dur)
	var (
		mu         sync.Mutex
		cyc, cls   hist
		reqs, errs uint64
		fdLim      bool
		wg         sync.WaitGroup
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var hc, hx hist
			var n, e uint64
			lim := false
			buf := make([]byte, size)
			for time.Now().Before(end) {
				t0 := time.Now()
				c, err := net.DialTimeout("tcp", target, 5*time.Second)
				if err != nil {
					e++
					lim = lim || isFDLimit(err)
					continue
				}
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				_, err = c.Write(buf)
				if err == nil {
					_, err = io.ReadFull(c, buf)
				}
				t1 := time.Now()
				c.Close()
				t2 := time.Now()
				if err != nil {
					e++
					continue
				}
				hc.record(t2.Sub(t0))
				hx.record(t2.Sub(t1))
				n++
			}
			mu.Lock()
			cyc.merge(&hc)
			cls.merge(&hx)
			reqs += n
			errs += e
			fdLim = fdLim || lim
			mu.Unlock()
		}()
	}
	wg.Wait()
	return loadResult{
		Conns: workers, Requests: reqs, Errors: errs, FDLimited: fdLim, Seconds: dur.Seconds(),
		P50us: cyc.quantile(0.5), P99us: cyc.quantile(0.99), P999us: cyc.quantile(0.999),
		CloseP50us: cls.quantile(0.5), CloseP99us: cls.quantile(0.99),
	}
}
