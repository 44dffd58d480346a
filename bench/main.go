// Command bench is gowsk's side-by-side echo benchmark harness: it runs
// each server implementation in its own process pinned to CPU0 and a load
// generator in another pinned to CPU1 (GOMAXPROCS=1 each), interleaving
// the implementations over several rounds. See README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

// realMain dispatches the hidden child modes and otherwise runs the
// driver. Exit status 2 means bad flags or an unreachable target.
func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "serve":
			return serveMain(args[1:])
		case "load":
			return loadMain(args[1:])
		case "closebench":
			return closeMain(args[1:])
		case "httpserve":
			return httpServeMain(args[1:])
		case "httpload":
			return httpLoadMain(args[1:])
		}
	}
	return driverMain(args, stdout, stderr)
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("bad positive integer %q", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func driverMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	suites := fs.String("suite", "echo", "comma list of suites: echo, open, idle, churn, close, http")
	servers := fs.String("servers", strings.Join(serverNames(), ","), "comma list of servers")
	conns := fs.String("conns", "100,1000,10000", "comma list of connection counts (churn: concurrent workers, default 8)")
	payloads := fs.String("payload", "64,4096", "comma list of payload sizes in bytes")
	pending := fs.String("pending", joinInts(defaultPending), "close suite: comma list of receive IRPs pending at close")
	rounds := fs.Int("rounds", 3, "interleaved rounds")
	dur := fs.Duration("duration", 5*time.Second, "measurement window per run")
	warm := fs.Duration("warmup", time.Second, "warmup per run")
	rate := fs.Float64("rate", 0, "open-loop total request rate (0 = closed loop)")
	target := fs.String("target", "", "run the echo suite against an external HOST:PORT")
	jsonPath := fs.String("json", "", "write results as JSON to this file")
	svgPath := fs.String("svg", "", "write an SVG chart to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "bench: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return fail("unexpected arguments %v", fs.Args())
	}
	cfg := &config{rounds: *rounds, duration: *dur, warmup: *warm, rate: *rate,
		target: *target, jsonPath: *jsonPath, svgPath: *svgPath, stdout: stdout}
	var err error
	if cfg.conns, err = parseInts(*conns); err != nil {
		return fail("-conns: %v", err)
	}
	if cfg.payloads, err = parseInts(*payloads); err != nil {
		return fail("-payload: %v", err)
	}
	if cfg.pending, err = parseInts(*pending); err != nil {
		return fail("-pending: %v", err)
	}
	if cfg.rounds <= 0 || cfg.duration <= 0 || cfg.warmup < 0 || cfg.rate < 0 {
		return fail("-rounds and -duration must be positive, -warmup and -rate non-negative")
	}
	for _, s := range strings.Split(*suites, ",") {
		s = strings.TrimSpace(s)
		switch s {
		case "echo", "open", "idle", "churn", "close", "http":
			cfg.suites = append(cfg.suites, s)
		default:
			return fail("unknown suite %q (echo, open, idle, churn, close, http)", s)
		}
	}
	for _, s := range strings.Split(*servers, ",") {
		s = strings.TrimSpace(s)
		if _, err := lookupServer(s); err != nil {
			return fail("-servers: %v", err)
		}
		cfg.servers = append(cfg.servers, s)
	}
	if cfg.target != "" {
		for _, s := range cfg.suites {
			if s != "echo" {
				return fail("-target runs only the echo suite")
			}
		}
		c, err := net.DialTimeout("tcp", cfg.target, 3*time.Second)
		if err != nil {
			return fail("target %s unreachable: %v", cfg.target, err)
		}
		c.Close()
	}
	if cfg.self, err = os.Executable(); err != nil {
		cfg.self = os.Args[0]
	}
	raiseNofile()
	md := collectMetadata()
	runs, err := runAll(cfg)
	if err != nil {
		// Only an external target that stops answering mid-run lands here.
		return fail("%v", err)
	}
	sums := summarize(runs)
	writeMarkdown(stdout, md, sums)
	if cfg.jsonPath != "" {
		if err := writeJSON(cfg.jsonPath, report{Metadata: md, Results: sums}); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
	}
	if cfg.svgPath != "" {
		if err := writeSVG(cfg.svgPath, sums); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
	}
	return 0
}
