package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// childEnv marks a re-executed copy of this binary (or of the test
// binary) as a server or load process.
const childEnv = "GOWSK_BENCH_CHILD"

type config struct {
	suites   []string
	servers  []string
	conns    []int
	payloads []int
	pending  []int // close suite: receives pending at close (K)
	rounds   int
	duration time.Duration
	warmup   time.Duration
	rate     float64
	target   string
	jsonPath string
	svgPath  string
	self     string    // binary to re-exec
	stdout   io.Writer // where the report goes
}

// runResult is one measured run (one round of one configuration).
type runResult struct {
	Suite, Server      string
	Conns, Payload     int
	Requests           uint64
	ReqPerSec          float64
	P50, P99, P999     float64
	CPUPerReq          float64
	RSSPeakKB          int64
	RSSSteadyKB        int64
	RSSPerConnKB       float64
	Errors             uint64
	FDLimited          bool
	FDLeak             int
	CloseP50, CloseP99 float64
	Pending            int     // close suite: K
	CloseUs            float64 // close suite: this round's median close time
	Rate               float64 // open suite: the fixed total request rate offered
}

type child struct {
	cmd   *exec.Cmd
	lines chan string
	stdin io.WriteCloser
	done  chan struct{}
}

func startChild(self string, cpu int, args ...string) (*child, error) {
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1", "GOMAXPROCS=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := startPinned(cmd, cpu); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, lines: make(chan string, 16), stdin: in, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	return c, nil
}

// expect waits for a line starting with prefix.
func (c *child) expect(prefix string, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				return "", fmt.Errorf("child exited before %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return strings.TrimSpace(strings.TrimPrefix(l, prefix)), nil
			}
		case <-t.C:
			return "", fmt.Errorf("timeout waiting for %q", prefix)
		}
	}
}

// stop ends the child with SIGTERM (SIGKILL after 5 s) and reaps it.
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	_ = c.cmd.Wait()
}

func (c *child) wait() {
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	_ = c.cmd.Wait()
}

// runOne measures one configuration once: fresh server process on CPU0,
// fresh load process on CPU1.
func runOne(cfg *config, suite, server string, conns, payload int) (runResult, error) {
	r := runResult{Suite: suite, Server: server, Conns: conns, Payload: payload}
	target := cfg.target
	pid := 0
	var srv *child
	if target == "" {
		var err error
		srv, err = startChild(cfg.self, 0, "serve", "-impl", server, "-addr", "127.0.0.1:0")
		if err != nil {
			return r, err
		}
		defer srv.stop()
		target, err = srv.expect("listening on ", 15*time.Second)
		if err != nil {
			return r, fmt.Errorf("%s: %w", server, err)
		}
		pid = srv.cmd.Process.Pid
	}
	rssBase, _, _ := procMemKB(pid)
	fdBase := procFDCount(pid)
	args := []string{"load", "-target", target, "-conns", strconv.Itoa(conns),
		"-payload", strconv.Itoa(payload), "-duration", cfg.duration.String(),
		"-warmup", cfg.warmup.String()}
	switch suite {
	case "idle":
		args = append(args, "-idle")
	case "churn":
		args = append(args, "-churn")
	case "open":
		r.Rate = cfg.rate
		args = append(args, "-rate", strconv.FormatFloat(cfg.rate, 'f', -1, 64))
	default:
		if cfg.rate > 0 {
			args = append(args, "-rate", strconv.FormatFloat(cfg.rate, 'f', -1, 64))
		}
	}
	ld, err := startChild(cfg.self, 1, args...)
	if err != nil {
		return r, err
	}
	defer ld.wait()
	var cpu0, cpu1 float64
	window := cfg.warmup + cfg.duration + time.Minute
	if suite != "churn" {
		if _, err := ld.expect("dialled ", 5*time.Minute); err != nil {
			return r, err
		}
		time.Sleep(100 * time.Millisecond) // let the server accept the tail
		rssDial, _, _ := procMemKB(pid)
		if conns > 0 && pid != 0 {
			r.RSSPerConnKB = float64(rssDial-rssBase) / float64(conns)
		}
		if suite == "idle" {
			cpu0, _ = procCPUMicros(pid)
			time.Sleep(cfg.duration)
			cpu1, _ = procCPUMicros(pid)
		}
		if _, err := io.WriteString(ld.stdin, "go\n"); err != nil {
			return r, err
		}
	}
	if _, err := ld.expect("measuring", window); err != nil {
		return r, err
	}
	if suite != "idle" {
		cpu0, _ = procCPUMicros(pid)
	}
	line, err := ld.expect("result ", window)
	if err != nil {
		return r, err
	}
	if suite != "idle" {
		cpu1, _ = procCPUMicros(pid)
	}
	r.RSSSteadyKB, r.RSSPeakKB, _ = procMemKB(pid)
	var lr loadResult
	if err := json.Unmarshal([]byte(line), &lr); err != nil {
		return r, fmt.Errorf("bad load result: %w", err)
	}
	r.Requests, r.Errors, r.FDLimited = lr.Requests, lr.Errors, lr.FDLimited
	r.P50, r.P99, r.P999 = lr.P50us, lr.P99us, lr.P999us
	r.CloseP50, r.CloseP99 = lr.CloseP50us, lr.CloseP99us
	if lr.Seconds > 0 {
		r.ReqPerSec = float64(lr.Requests) / lr.Seconds
	}
	if pid != 0 {
		if suite == "idle" {
			// CPU while idle, per connection per second, in µs.
			r.CPUPerReq = (cpu1 - cpu0) / float64(conns) / cfg.duration.Seconds()
		} else if lr.Requests > 0 {
			r.CPUPerReq = (cpu1 - cpu0) / float64(lr.Requests)
		}
	}
	if suite == "churn" && pid != 0 {
		deadline := time.Now().Add(3 * time.Second)
		for procFDCount(pid) > fdBase && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		r.FDLeak = procFDCount(pid) - fdBase
	}
	if r.FDLimited {
		fmt.Fprintf(os.Stderr, "warning: %s %s c=%d cut short by RLIMIT_NOFILE (%d of %d dialled)\n",
			suite, server, conns, lr.Dialled, conns)
	}
	return r, nil
}

// runAll interleaves servers A B C … A B C … for each configuration.
func runAll(cfg *config) ([]runResult, error) {
	var all []runResult
	servers := cfg.servers
	if cfg.target != "" {
		servers = []string{"external"}
	}
	for _, suite := range cfg.suites {
		if suite == "close" {
			all = append(all, runCloseSuite(cfg)...)
			continue
		}
		if suite == "http" {
			all = append(all, runHTTPSuite(cfg)...) // http_suite.go
			continue
		}
		if suite == "open" {
			all = append(all, runOpenSuite(cfg, all)...)
			continue
		}
		conns, payloads := cfg.conns, cfg.payloads
		switch suite {
		case "idle":
			payloads = []int{0}
			if !cfg.connsSet() {
				conns = []int{1000, 10000}
			}
		case "churn":
			payloads = []int{64}
			if !cfg.connsSet() {
				conns = []int{8}
			}
		}
		for _, c := range conns {
			for _, p := range payloads {
				for round := 1; round <= cfg.rounds; round++ {
					for _, s := range servers {
						fmt.Fprintf(os.Stderr, "%s %s conns=%d payload=%d round %d/%d\n", suite, s, c, p, round, cfg.rounds)
						pl := p
						if pl == 0 {
							pl = 1
						}
						r, err := runOne(cfg, suite, s, c, pl)
						r.Payload = p
						if err != nil {
							if cfg.target != "" {
								return nil, err
							}
							fmt.Fprintf(os.Stderr, "  error: %v\n", err)
							r.Errors++
						}
						all = append(all, r)
					}
				}
			}
		}
	}
	return all, nil
}

// runCloseSuite interleaves the close rows (stdlib, wsk, raw) over the rounds for every K.
func runCloseSuite(cfg *config) []runResult {
	impls := closeImpls(cfg.servers)
	if !slices.Contains(impls, "wsk") {
		fmt.Fprintln(os.Stderr, "close: skipped: no wsk server in -servers")
		fmt.Fprintln(cfg.stdout, "close suite: skipped: no wsk server in -servers")
		return nil
	}
	var all []runResult
	for _, k := range cfg.pending {
		for round := 1; round <= cfg.rounds; round++ {
			for _, impl := range impls {
				fmt.Fprintf(os.Stderr, "close %s pending=%d round %d/%d\n", impl, k, round, cfg.rounds)
				r, err := runCloseOne(cfg, impl, k)
				if err != nil {
					fmt.Fprintf(os.Stderr, "  error: %v\n", err)
					r.Errors++
				}
				all = append(all, r)
			}
		}
	}
	return all
}

var defaultConns = []int{100, 1000, 10000}

func (c *config) connsSet() bool {
	if len(c.conns) != len(defaultConns) {
		return true
	}
	for i := range c.conns {
		if c.conns[i] != defaultConns[i] {
			return true
		}
	}
	return false
}

// openLoad is the share of the closed-loop throughput the open suite offers: half, so
// that the latency it measures is service time, not queueing.
const openLoad = 0.5

// openRate is the open suite's total rate for one (conns, payload): -rate if given, else
// openLoad × the lowest closed-loop median req/s among the servers the echo suite measured
// at that point earlier in this run (so every server can sustain it). 0: no basis.
func openRate(cfg *config, prior []runResult, conns, payload int) float64 {
	if cfg.rate > 0 {
		return cfg.rate
	}
	per := map[string][]float64{}
	for _, r := range prior {
		if r.Suite == "echo" && r.Conns == conns && r.Payload == payload && r.ReqPerSec > 0 {
			per[r.Server] = append(per[r.Server], r.ReqPerSec)
		}
	}
	lowest := 0.0
	for _, v := range per {
		if m, _, _ := median(v); lowest == 0 || m < lowest {
			lowest = m
		}
	}
	return openLoad * lowest
}

// runOpenSuite is the echo suite at a fixed rate (openRate), interleaved like the others.
// A point with no closed-loop figure and no -rate is skipped (run the echo suite first).
func runOpenSuite(cfg *config, prior []runResult) []runResult {
	var all []runResult
	for _, c := range cfg.conns {
		for _, p := range cfg.payloads {
			rate := openRate(cfg, prior, c, p)
			if rate <= 0 {
				fmt.Fprintf(os.Stderr, "open conns=%d payload=%d: skipped: no closed-loop echo figure (put echo before open, or give -rate)\n", c, p)
				continue
			}
			oc := *cfg
			oc.rate = rate
			for round := 1; round <= cfg.rounds; round++ {
				for _, s := range cfg.servers {
					fmt.Fprintf(os.Stderr, "open %s conns=%d payload=%d rate=%.0f round %d/%d\n", s, c, p, rate, round, cfg.rounds)
					r, err := runOne(&oc, "open", s, c, p)
					if err != nil {
						fmt.Fprintf(os.Stderr, "  error: %v\n", err)
						r.Errors++
					}
					all = append(all, r)
				}
			}
		}
	}
	return all
}
