package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"
)

// summary is one (suite, server, conns, payload) over all rounds: medians
// with min/max companions. For the idle suite server_cpu_us_per_req holds
// server CPU µs per connection per second while idle; for churn
// req_per_sec is connect-echo-close cycles per second and p50/p99 are of
// the whole cycle (close_* of Close alone).
type summary struct {
	Suite         string  `json:"suite"`
	Server        string  `json:"server"`
	Conns         int     `json:"conns"`
	Payload       int     `json:"payload"`
	Rounds        int     `json:"rounds"`
	Requests      uint64  `json:"requests"`
	ReqPerSec     float64 `json:"req_per_sec"`
	ReqPerSecMin  float64 `json:"req_per_sec_min"`
	ReqPerSecMax  float64 `json:"req_per_sec_max"`
	P50us         float64 `json:"p50_us"`
	P99us         float64 `json:"p99_us"`
	P99usMin      float64 `json:"p99_us_min"`
	P99usMax      float64 `json:"p99_us_max"`
	P999us        float64 `json:"p999_us"`
	CPUPerReq     float64 `json:"server_cpu_us_per_req"`
	CPUPerReqMin  float64 `json:"server_cpu_us_per_req_min"`
	CPUPerReqMax  float64 `json:"server_cpu_us_per_req_max"`
	RSSPeakKB     int64   `json:"server_rss_peak_kb"`
	RSSSteadyKB   int64   `json:"server_rss_steady_kb"`
	RSSPerConnKB  float64 `json:"rss_kb_per_conn"`
	RSSPerConnMin float64 `json:"rss_kb_per_conn_min"`
	RSSPerConnMax float64 `json:"rss_kb_per_conn_max"`
	Errors        uint64  `json:"errors"`
	FDLimited     bool    `json:"fd_limited"`
	FDLeak        int     `json:"fd_leak,omitempty"`
	CloseP50us    float64 `json:"close_p50_us,omitempty"`
	CloseP99us    float64 `json:"close_p99_us,omitempty"`
	// Close suite only (conns 1, payload 0, requests = closes measured, errors =
	// verification failures): K, and the close time over rounds (median of the
	// per-round medians, with min and max) and per pending IRP.
	Pending              int     `json:"pending,omitempty"`
	CloseUs              float64 `json:"close_us,omitempty"`
	CloseUsMin           float64 `json:"close_us_min,omitempty"`
	CloseUsMax           float64 `json:"close_us_max,omitempty"`
	CloseUsPerPendingIRP float64 `json:"close_us_per_pending_irp,omitempty"`
	// Open suite only: the fixed total request rate offered (req/s).
	Rate float64 `json:"rate,omitempty"`
}

type metadata struct {
	GoVersion  string    `json:"go_version"`
	Kernel     string    `json:"kernel"`
	Commit     string    `json:"commit"`
	NumCPU     int       `json:"num_cpu"`
	ClockTicks float64   `json:"clk_tck"`
	NoFile     uint64    `json:"rlimit_nofile"`
	Args       []string  `json:"args"`
	Time       time.Time `json:"time"`
}

type report struct {
	Metadata metadata  `json:"metadata"`
	Results  []summary `json:"results"`
}

func median(v []float64) (med, lo, hi float64) {
	if len(v) == 0 {
		return 0, 0, 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		med = s[n/2]
	} else {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return med, s[0], s[n-1]
}

func summarize(runs []runResult) []summary {
	type key struct {
		suite, server           string
		conns, payload, pending int
	}
	var order []key
	groups := map[key][]runResult{}
	for _, r := range runs {
		k := key{r.Suite, r.Server, r.Conns, r.Payload, r.Pending}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if a.suite != b.suite {
			return false // keep suite order as run
		}
		if a.conns != b.conns {
			return a.conns < b.conns
		}
		if a.pending != b.pending {
			return a.pending < b.pending
		}
		return a.payload < b.payload
	})
	var out []summary
	for _, k := range order {
		g := groups[k]
		var rps, p50, p99, p999, cpu, rpc, c50, c99, cls []float64
		s := summary{Suite: k.suite, Server: k.server, Conns: k.conns, Payload: k.payload, Pending: k.pending, Rounds: len(g)}
		var peak, steady []float64
		s.Rate = g[0].Rate
		for _, r := range g {
			rps = append(rps, r.ReqPerSec)
			p50 = append(p50, r.P50)
			p99 = append(p99, r.P99)
			p999 = append(p999, r.P999)
			cpu = append(cpu, r.CPUPerReq)
			rpc = append(rpc, r.RSSPerConnKB)
			c50 = append(c50, r.CloseP50)
			c99 = append(c99, r.CloseP99)
			if r.CloseUs > 0 {
				cls = append(cls, r.CloseUs)
			}
			peak = append(peak, float64(r.RSSPeakKB))
			steady = append(steady, float64(r.RSSSteadyKB))
			s.Requests += r.Requests
			s.Errors += r.Errors
			s.FDLimited = s.FDLimited || r.FDLimited
			if r.FDLeak > s.FDLeak {
				s.FDLeak = r.FDLeak
			}
		}
		s.ReqPerSec, s.ReqPerSecMin, s.ReqPerSecMax = median(rps)
		s.P50us, _, _ = median(p50)
		s.P99us, s.P99usMin, s.P99usMax = median(p99)
		s.P999us, _, _ = median(p999)
		s.CPUPerReq, s.CPUPerReqMin, s.CPUPerReqMax = median(cpu)
		s.RSSPerConnKB, s.RSSPerConnMin, s.RSSPerConnMax = median(rpc)
		s.CloseP50us, _, _ = median(c50)
		s.CloseP99us, _, _ = median(c99)
		s.CloseUs, s.CloseUsMin, s.CloseUsMax = median(cls)
		if s.Pending > 0 {
			s.CloseUsPerPendingIRP = s.CloseUs / float64(s.Pending)
		}
		pk, _, _ := median(peak)
		st, _, _ := median(steady)
		s.RSSPeakKB, s.RSSSteadyKB = int64(pk), int64(st)
		out = append(out, s)
	}
	return out
}

func collectMetadata() metadata {
	commit := "unknown"
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		commit = strings.TrimSpace(string(out))
	}
	return metadata{
		GoVersion: runtime.Version(), Kernel: kernelRelease(), Commit: commit,
		NumCPU: runtime.NumCPU(), ClockTicks: clockTicks, NoFile: raiseNofile(),
		Args: os.Args[1:], Time: time.Now().UTC(),
	}
}

func writeJSON(path string, rep report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func ratio(v, base float64) string {
	if base == 0 || math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", v/base)
}

// isGowsk reports whether a server is one of gowsk's own variants ("wsk", "wsk-…"),
// which the "best peer" ratios leave out: the peers are the other libraries.
func isGowsk(name string) bool { return name == "wsk" || strings.HasPrefix(name, "wsk-") }

// writeMarkdown prints one table per (suite, conns, payload) with
// medians [min–max] and ratios to stdlib and to the best peer, the best
// server that is neither stdlib nor gowsk's (best = highest req/s for
// throughput, lowest CPU/req for CPU).
func writeMarkdown(w io.Writer, md metadata, sums []summary) {
	fmt.Fprintf(w, "go %s, kernel %s, commit %s, %d CPUs\n\n", md.GoVersion, md.Kernel, md.Commit, md.NumCPU)
	type key struct {
		suite                   string
		conns, payload, pending int
	}
	var order []key
	groups := map[key][]summary{}
	for _, s := range sums {
		k := key{s.Suite, s.Conns, s.Payload, s.Pending}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], s)
	}
	for _, k := range order {
		g := groups[k]
		var std *summary
		bestRPS, bestCPU := 0.0, math.Inf(1)
		for i := range g {
			if g[i].Server == "stdlib" {
				std = &g[i]
				continue
			}
			if isGowsk(g[i].Server) {
				continue // ours is compared with the peers, not with itself
			}
			bestRPS = math.Max(bestRPS, g[i].ReqPerSec)
			if g[i].CPUPerReq > 0 {
				bestCPU = math.Min(bestCPU, g[i].CPUPerReq)
			}
		}
		if math.IsInf(bestCPU, 1) {
			bestCPU = 0
		}
		stdRPS, stdCPU := 0.0, 0.0
		if std != nil {
			stdRPS, stdCPU = std.ReqPerSec, std.CPUPerReq
		}
		cpuLabel, rpsLabel := "srv CPU µs/req", "req/s"
		switch k.suite {
		case "idle":
			cpuLabel, rpsLabel = "srv CPU µs/conn/s", "req/s"
		case "churn":
			rpsLabel = "conns/s"
		}
		if k.suite == "idle" {
			writeIdleTable(w, k.conns, g)
			continue
		}
		if k.suite == "close" {
			writeCloseTable(w, k.pending, g)
			continue
		}
		if isHTTPSuite(k.suite) {
			writeHTTPTable(w, g) // http_suite.go
			continue
		}
		if k.suite == "open" {
			writeOpenTable(w, k.conns, k.payload, g)
			continue
		}
		fmt.Fprintf(w, "### %s, conns=%d, payload=%d B, rounds=%d\n\n", k.suite, k.conns, k.payload, g[0].Rounds)
		fmt.Fprintf(w, "| server | %s [min–max] | ×std | ×best peer | p50 µs | p99 µs [min–max] | p99.9 µs | %s [min–max] | ×std | ×best peer | RSS peak MB | RSS KB/conn | errors |\n", rpsLabel, cpuLabel)
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
		for _, s := range g {
			errs := fmt.Sprint(s.Errors)
			if s.FDLimited {
				errs += " (fd limit)"
			}
			if s.FDLeak > 0 {
				errs += fmt.Sprintf(" (fd leak %d)", s.FDLeak)
			}
			fmt.Fprintf(w, "| %s | %.0f [%.0f–%.0f] | %s | %s | %.0f | %.0f [%.0f–%.0f] | %.0f | %.2f [%.2f–%.2f] | %s | %s | %.1f | %.2f | %s |\n",
				s.Server, s.ReqPerSec, s.ReqPerSecMin, s.ReqPerSecMax,
				ratio(s.ReqPerSec, stdRPS), ratio(s.ReqPerSec, bestRPS),
				s.P50us, s.P99us, s.P99usMin, s.P99usMax, s.P999us,
				s.CPUPerReq, s.CPUPerReqMin, s.CPUPerReqMax,
				ratio(s.CPUPerReq, stdCPU), ratio(s.CPUPerReq, bestCPU),
				float64(s.RSSPeakKB)/1024, s.RSSPerConnKB, errs)
		}
		if k.suite == "churn" {
			fmt.Fprintln(w)
			for _, s := range g {
				fmt.Fprintf(w, "- %s: close p50 %.1f µs, p99 %.1f µs, fd leak %d\n", s.Server, s.CloseP50us, s.CloseP99us, s.FDLeak)
			}
		}
		fmt.Fprintln(w)
	}
}

// writeIdleTable reports idle connections: memory per connection and the
// server CPU they cost while nothing is sent.
func writeIdleTable(w io.Writer, conns int, g []summary) {
	var std float64
	best := math.Inf(1)
	for _, s := range g {
		if s.Server == "stdlib" {
			std = s.RSSPerConnKB
		} else if !isGowsk(s.Server) && s.RSSPerConnKB > 0 {
			best = math.Min(best, s.RSSPerConnKB)
		}
	}
	if math.IsInf(best, 1) {
		best = 0
	}
	fmt.Fprintf(w, "### idle, conns=%d, rounds=%d\n\n", conns, g[0].Rounds)
	fmt.Fprintln(w, "| server | RSS KB/conn [min–max] | ×std | ×best peer | RSS steady MB | RSS peak MB | srv CPU µs/conn/s [min–max] | errors |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, s := range g {
		errs := fmt.Sprint(s.Errors)
		if s.FDLimited {
			errs += " (fd limit)"
		}
		fmt.Fprintf(w, "| %s | %.2f [%.2f–%.2f] | %s | %s | %.1f | %.1f | %.3f [%.3f–%.3f] | %s |\n",
			s.Server, s.RSSPerConnKB, s.RSSPerConnMin, s.RSSPerConnMax,
			ratio(s.RSSPerConnKB, std), ratio(s.RSSPerConnKB, best),
			float64(s.RSSSteadyKB)/1024, float64(s.RSSPeakKB)/1024,
			s.CPUPerReq, s.CPUPerReqMin, s.CPUPerReqMax, errs)
	}
	fmt.Fprintln(w)
}

// writeCloseTable reports the close suite for one K: close IRP completion time (median of
// the per-round medians, [min–max] over rounds), the ratio to the stdlib equivalent, the
// time per pending IRP, and the verification failures.
func writeCloseTable(w io.Writer, k int, g []summary) {
	var std, raw, ours float64
	for _, s := range g {
		switch s.Server {
		case "stdlib":
			std = s.CloseUs
		case "raw":
			raw = s.CloseUs
		case "wsk":
			ours = s.CloseUs
		}
	}
	fmt.Fprintf(w, "### close, pending receive IRPs=%d, rounds=%d\n\n", k, g[0].Rounds)
	fmt.Fprintln(w, "| server | close µs [min–max] | ×std | µs per pending IRP | closes | errors |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, s := range g {
		perIRP := fmt.Sprintf("%.3f", s.CloseUsPerPendingIRP)
		if s.Server == "raw" {
			perIRP = "–"
		}
		fmt.Fprintf(w, "| %s | %.1f [%.1f–%.1f] | %s | %s | %d | %d |\n",
			s.Server, s.CloseUs, s.CloseUsMin, s.CloseUsMax, ratio(s.CloseUs, std),
			perIRP, s.Requests, s.Errors)
	}
	fmt.Fprintln(w, "\nwsk: time from CloseSocket to its IRP's completion, every receive completed with "+
		"STATUS_CANCELLED before it (errors count any that was not); stdlib: net.Conn.Close until "+
		"K goroutines blocked in Read have returned; raw: SO_LINGER{1,0} + close(2), no IRP (K does not apply).")
	if raw > 0 && ours > 0 {
		goal := raw + float64(k)
		verdict := "met"
		if ours > goal {
			verdict = "missed"
		}
		fmt.Fprintf(w, "\nGoal (close) wsk ≤ raw + K × 1 µs = %.1f µs: %s (%.2f× the goal).\n", goal, verdict, ours/goal)
	}
	fmt.Fprintln(w)
}

// writeOpenTable reports the open suite for one (conns, payload): a fixed total rate
// (half the closed-loop throughput of the slowest server), so the latency is service
// time; the ratio is p99 to the best peer's (the lowest p99 of a server that is neither
// stdlib nor gowsk's).
func writeOpenTable(w io.Writer, conns, payload int, g []summary) {
	best := math.Inf(1)
	for _, s := range g {
		if s.Server != "stdlib" && !isGowsk(s.Server) && s.P99us > 0 {
			best = math.Min(best, s.P99us)
		}
	}
	if math.IsInf(best, 1) {
		best = 0
	}
	fmt.Fprintf(w, "### open loop, conns=%d, payload=%d B, rate=%.0f req/s, rounds=%d\n\n", conns, payload, g[0].Rate, g[0].Rounds)
	fmt.Fprintln(w, "| server | req/s | p50 µs | p99 µs [min–max] | p99 ×best peer | p99.9 µs | srv CPU µs/req [min–max] | errors |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, s := range g {
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %.0f [%.0f–%.0f] | %s | %.0f | %.2f [%.2f–%.2f] | %d |\n",
			s.Server, s.ReqPerSec, s.P50us, s.P99us, s.P99usMin, s.P99usMax, ratio(s.P99us, best),
			s.P999us, s.CPUPerReq, s.CPUPerReqMin, s.CPUPerReqMax, s.Errors)
	}
	fmt.Fprintln(w)
}
