package main

// The http suite: net/http hello world on a stdlib listener and on a gowsk listener,
// with fasthttp on a stdlib listener as the reference, at each -conns and -payload
// (defaults 1000,10000 × 64,4096), driven by two loaders in turn:
//
//   - "http": the harness's own loader (httpload), keep-alive, closed loop, which also
//     measures RSS per idle HTTP connection (every connection served one request);
//   - "http-wrk": wrk (Debian's package, installed by install_wrk.sh; skipped when
//     not on PATH), one thread, -c conns, --latency. Its CPU figure is over the whole
//     wrk run (the connection set-up included), per request wrk counted.
//
// Servers run in a fresh `httpserve` process on CPU0, loaders on CPU1 (GOMAXPROCS=1
// each), interleaved over rounds as the echo suite. The table gives medians and the
// ratio of each figure to stdlib's.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

func runHTTPSuite(cfg *config) []runResult {
	conns := cfg.conns
	if !cfg.connsSet() {
		conns = []int{1000, 10000}
	}
	_, wrkErr := exec.LookPath("wrk")
	if wrkErr != nil {
		fmt.Fprintln(os.Stderr, "http: wrk not on PATH (run bench/install_wrk.sh): wrk rows skipped")
	}
	var all []runResult
	for _, c := range conns {
		for _, p := range cfg.payloads {
			for round := 1; round <= cfg.rounds; round++ {
				for _, s := range httpServerNames {
					for _, loader := range []string{"http", "http-wrk"} {
						if loader == "http-wrk" && wrkErr != nil {
							continue
						}
						fmt.Fprintf(os.Stderr, "%s %s conns=%d payload=%d round %d/%d\n", loader, s, c, p, round, cfg.rounds)
						r, err := runHTTPOne(cfg, loader, s, c, p)
						if err != nil {
							fmt.Fprintf(os.Stderr, "  error: %v\n", err)
							r.Errors++
						}
						all = append(all, r)
					}
				}
			}
		}
	}
	return all
}

func runHTTPOne(cfg *config, loader, server string, conns, payload int) (runResult, error) {
	r := runResult{Suite: loader, Server: server, Conns: conns, Payload: payload}
	srv, err := startChild(cfg.self, 0, "httpserve", "-impl", server, "-addr", "127.0.0.1:0")
	if err != nil {
		return r, err
	}
	defer srv.stop()
	target, err := srv.expect("listening on ", 15*time.Second)
	if err != nil {
		return r, fmt.Errorf("%s: %w", server, err)
	}
	pid := srv.cmd.Process.Pid
	if loader == "http-wrk" {
		return runWrk(cfg, r, pid, target)
	}
	rssBase, _, _ := procMemKB(pid)
	ld, err := startChild(cfg.self, 1, "httpload", "-target", target, "-conns", strconv.Itoa(conns),
		"-payload", strconv.Itoa(payload), "-duration", cfg.duration.String(), "-warmup", cfg.warmup.String())
	if err != nil {
		return r, err
	}
	defer ld.wait()
	if _, err := ld.expect("warmed ", 5*time.Minute); err != nil {
		return r, err
	}
	time.Sleep(100 * time.Millisecond)
	rssIdle, _, _ := procMemKB(pid)
	r.RSSPerConnKB = float64(rssIdle-rssBase) / float64(conns)
	if _, err := io.WriteString(ld.stdin, "go\n"); err != nil {
		return r, err
	}
	window := cfg.warmup + cfg.duration + time.Minute
	if _, err := ld.expect("measuring", window); err != nil {
		return r, err
	}
	cpu0, _ := procCPUMicros(pid)
	line, err := ld.expect("result ", window)
	if err != nil {
		return r, err
	}
	cpu1, _ := procCPUMicros(pid)
	r.RSSSteadyKB, r.RSSPeakKB, _ = procMemKB(pid)
	var lr loadResult
	if err := json.Unmarshal([]byte(line), &lr); err != nil {
		return r, fmt.Errorf("bad load result: %w", err)
	}
	r.Requests, r.Errors, r.FDLimited = lr.Requests, lr.Errors, lr.FDLimited
	r.P50, r.P99, r.P999 = lr.P50us, lr.P99us, lr.P999us
	if lr.Seconds > 0 {
		r.ReqPerSec = float64(lr.Requests) / lr.Seconds
	}
	if lr.Requests > 0 {
		r.CPUPerReq = (cpu1 - cpu0) / float64(lr.Requests)
	}
	return r, nil
}

// runWrk runs wrk pinned to CPU1 for warmup+duration against target.
func runWrk(cfg *config, r runResult, pid int, target string) (runResult, error) {
	d := cfg.warmup + cfg.duration
	cmd := exec.Command("wrk", "-t1", "-c"+strconv.Itoa(r.Conns), "-d"+strconv.Itoa(int(math.Ceil(d.Seconds())))+"s",
		"--latency", "--timeout", "10s", "http://"+target+"/"+strconv.Itoa(r.Payload))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return r, err
	}
	cmd.Stderr = os.Stderr
	cpu0, _ := procCPUMicros(pid)
	if err := startPinned(cmd, 1); err != nil {
		return r, err
	}
	text, _ := io.ReadAll(bufio.NewReader(out))
	if err := cmd.Wait(); err != nil {
		return r, fmt.Errorf("wrk: %w", err)
	}
	cpu1, _ := procCPUMicros(pid)
	r.RSSSteadyKB, r.RSSPeakKB, _ = procMemKB(pid)
	w := parseWrk(string(text))
	r.Requests, r.ReqPerSec, r.P50, r.P99, r.Errors = w.requests, w.rps, w.p50, w.p99, w.errors
	if w.requests > 0 {
		r.CPUPerReq = (cpu1 - cpu0) / float64(w.requests)
	}
	if w.requests == 0 {
		return r, fmt.Errorf("wrk reported no requests:\n%s", text)
	}
	return r, nil
}

type wrkResult struct {
	requests uint64
	errors   uint64
	rps      float64
	p50, p99 float64 // µs
}

var (
	wrkReqs    = regexp.MustCompile(`(?m)^\s*(\d+) requests in`)
	wrkRPS     = regexp.MustCompile(`(?m)^Requests/sec:\s*([\d.]+)`)
	wrkPct     = regexp.MustCompile(`(?m)^\s*(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$`)
	wrkErrs    = regexp.MustCompile(`(?m)Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkNon2xx  = regexp.MustCompile(`(?m)Non-2xx or 3xx responses: (\d+)`)
	wrkUnitsUs = map[string]float64{"us": 1, "ms": 1e3, "s": 1e6}
)

// parseWrk reads wrk's --latency report.
func parseWrk(s string) wrkResult {
	var w wrkResult
	if m := wrkReqs.FindStringSubmatch(s); m != nil {
		w.requests, _ = strconv.ParseUint(m[1], 10, 64)
	}
	if m := wrkRPS.FindStringSubmatch(s); m != nil {
		w.rps, _ = strconv.ParseFloat(m[1], 64)
	}
	for _, m := range wrkPct.FindAllStringSubmatch(s, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		v *= wrkUnitsUs[m[3]]
		if m[1] == "50" {
			w.p50 = v
		} else {
			w.p99 = v
		}
	}
	if m := wrkErrs.FindStringSubmatch(s); m != nil {
		for _, f := range m[1:] {
			n, _ := strconv.ParseUint(f, 10, 64)
			w.errors += n
		}
	}
	if m := wrkNon2xx.FindStringSubmatch(s); m != nil {
		n, _ := strconv.ParseUint(m[1], 10, 64)
		w.errors += n
	}
	return w
}

// writeHTTPTable prints one http table (one loader, conns and payload): medians over
// rounds and each figure's ratio to stdlib's.
func writeHTTPTable(w io.Writer, g []summary) {
	k := g[0]
	fmt.Fprintf(w, "### %s, conns=%d, payload=%d B, rounds=%d\n\n", k.Suite, k.Conns, k.Payload, k.Rounds)
	var std summary
	for _, s := range g {
		if s.Server == "stdlib" {
			std = s
		}
	}
	idle := k.Suite == "http"
	fmt.Fprintln(w, "| server | req/s | ×std | srv CPU µs/req | ×std | p50 µs | ×std | p99 µs | ×std | RSS KB/idle conn | ×std | errors |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, s := range g {
		rss, rssR := "–", "–"
		if idle {
			rss, rssR = fmt.Sprintf("%.1f", s.RSSPerConnKB), ratio(s.RSSPerConnKB, std.RSSPerConnKB)
		}
		errs := fmt.Sprint(s.Errors)
		if s.FDLimited {
			errs += " (fd limit)"
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %.2f | %s | %.0f | %s | %.0f | %s | %s | %s | %s |\n",
			s.Server, s.ReqPerSec, ratio(s.ReqPerSec, std.ReqPerSec), s.CPUPerReq, ratio(s.CPUPerReq, std.CPUPerReq),
			s.P50us, ratio(s.P50us, std.P50us), s.P99us, ratio(s.P99us, std.P99us), rss, rssR, errs)
	}
	fmt.Fprintln(w)
}

func isHTTPSuite(s string) bool { return strings.HasPrefix(s, "http") }
