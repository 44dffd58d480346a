package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The driver re-executes this test binary as server and load
	// processes; in that role it must behave as the command, not run tests.
	if os.Getenv(childEnv) != "" {
		os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	// gnet's package init starts a process-wide ants worker pool whose
	// janitor goroutines live for the life of the process; they are not
	// ours and not per-test.
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"))
}

func TestSmokeDriverJSONHasEveryField(t *testing.T) {
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "out.json")
	svgPath := filepath.Join(dir, "out.svg")
	var out, errb bytes.Buffer
	code := realMain([]string{"-suite", "echo", "-servers", "stdlib,gnet,wsk,wsk-irp", "-conns", "10",
		"-payload", "64", "-rounds", "1", "-duration", "300ms", "-warmup", "100ms",
		"-json", jsonPath, "-svg", svgPath}, &out, &errb)
	require.Equal(t, 0, code, "stderr: %s", errb.String())
	require.Contains(t, out.String(), "| stdlib |")
	require.Contains(t, out.String(), "| gnet |")
	require.Contains(t, out.String(), "| wsk |")
	require.Contains(t, out.String(), "| wsk-irp |")

	raw, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	var rep struct {
		Metadata map[string]any   `json:"metadata"`
		Results  []map[string]any `json:"results"`
	}
	require.NoError(t, json.Unmarshal(raw, &rep))
	for _, k := range []string{"go_version", "kernel", "commit"} {
		require.Contains(t, rep.Metadata, k)
	}
	require.Len(t, rep.Results, 4)
	fields := []string{"suite", "server", "conns", "payload", "rounds", "requests", "req_per_sec",
		"p50_us", "p99_us", "p999_us", "server_cpu_us_per_req", "server_rss_peak_kb",
		"rss_kb_per_conn", "errors", "req_per_sec_min", "req_per_sec_max",
		"server_cpu_us_per_req_min", "server_cpu_us_per_req_max", "p99_us_min", "p99_us_max",
		"rss_kb_per_conn_min", "rss_kb_per_conn_max"}
	for _, r := range rep.Results {
		for _, f := range fields {
			require.Contains(t, r, f, "result %v lacks %s", r["server"], f)
		}
		require.Greater(t, r["requests"].(float64), 0.0, "server %v served nothing", r["server"])
	}
	svg, err := os.ReadFile(svgPath)
	require.NoError(t, err)
	require.True(t, strings.Contains(string(svg), "<svg"))
}

func TestSmokeChurnAndClose(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	jsonPath := filepath.Join(t.TempDir(), "close.json")
	var out, errb bytes.Buffer
	code := realMain([]string{"-suite", "churn,close", "-servers", "stdlib,wsk", "-conns", "2",
		"-pending", "1,100", "-rounds", "1", "-duration", "200ms", "-json", jsonPath}, &out, &errb)
	require.Equal(t, 0, code, "stderr: %s", errb.String())
	require.NotContains(t, out.String(), "skipped")
	require.Contains(t, out.String(), "stdlib: close p50")
	require.Contains(t, out.String(), "wsk: close p50")
	require.NotContains(t, out.String(), "fd leak 1")
	require.Contains(t, out.String(), "### close, pending receive IRPs=1,")
	require.Contains(t, out.String(), "### close, pending receive IRPs=100,")

	raw, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	var rep struct {
		Results []summary `json:"results"`
	}
	require.NoError(t, json.Unmarshal(raw, &rep))
	seen := map[string]bool{}
	for _, r := range rep.Results {
		if r.Suite != "close" {
			continue
		}
		seen[r.Server] = true
		require.Zero(t, r.Errors, "%s K=%d", r.Server, r.Pending)
		require.Contains(t, []int{1, 100}, r.Pending)
		require.Greater(t, r.CloseUs, 0.0, "%s K=%d", r.Server, r.Pending)
		require.LessOrEqual(t, r.CloseUsMin, r.CloseUs)
		require.GreaterOrEqual(t, r.CloseUsMax, r.CloseUs)
		require.Greater(t, r.Requests, uint64(0))
	}
	require.Equal(t, map[string]bool{"stdlib": true, "wsk": true, "raw": true}, seen)
	require.Contains(t, out.String(), "Goal (close) wsk ≤ raw + K × 1 µs")
}

func TestBadFlagsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"-nosuchflag"},
		{"-suite", "bogus"},
		{"-servers", "nosuch"},
		{"-conns", "0"},
		{"-payload", "x"},
		{"-rounds", "0"},
		{"-pending", "0"},
		{"-suite", "idle", "-target", "127.0.0.1:1"},
		{"-target", "127.0.0.1:1"},
	} {
		var out, errb bytes.Buffer
		require.Equal(t, 2, realMain(args, &out, &errb), "args %v", args)
		require.NotEmpty(t, errb.String(), "args %v gave no message", args)
	}
}

func TestHistQuantiles(t *testing.T) {
	var h hist
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	require.InEpsilon(t, 500.0, h.quantile(0.5), 0.04)
	require.InEpsilon(t, 990.0, h.quantile(0.99), 0.04)
	require.InEpsilon(t, 999.0, h.quantile(0.999), 0.04)
	for v := uint64(0); v < 1<<20; v += 997 {
		i := histIndex(v)
		require.LessOrEqual(t, histLow(i), v)
		require.Greater(t, histLow(i+1), v)
	}
}

func TestMedian(t *testing.T) {
	m, lo, hi := median([]float64{3, 1, 2})
	require.Equal(t, []float64{2, 1, 3}, []float64{m, lo, hi})
	m, _, _ = median([]float64{1, 2, 3, 4})
	require.Equal(t, 2.5, m)
}

func TestRegistryOrder(t *testing.T) {
	names := serverNames()
	require.Equal(t, "stdlib", names[0])
	require.Subset(t, names, []string{"gnet", "netpoll", "nbio", "wsk", "wsk-irp"})
}
