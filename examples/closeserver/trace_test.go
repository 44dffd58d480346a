package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/trace"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// traceNames are names a trace of the tour must hold: the tasks of sockets and IRPs, the
// IRP events, and the close protocol's steps (the format keeps them as plain strings).
var traceNames = []string{
	"socket", "WskAccept", "WskReceive", "WskDisconnect", "WskCloseSocket",
	"submitted", "pending", "completed STATUS_CANCELLED, Information 0",
	"completed STATUS_SUCCESS, Information 0",
	"1-3: calls drained, new calls refused", "4: wait for running callbacks",
	"close 5: cancel every pending IRP", "6: reset the connection", "6: no reset needed",
	"close 7: close the descriptor", "close 8: complete the close IRP",
}

// requireTourTrace checks that b is a Go execution trace holding traceNames.
func requireTourTrace(t *testing.T, b []byte) {
	t.Helper()
	require.True(t, bytes.HasPrefix(b, []byte("go 1.")), "no Go trace header: %q", b[:min(len(b), 16)])
	for _, name := range traceNames {
		require.True(t, bytes.Contains(b, []byte(name)), "the trace lacks %q", name)
	}
}

// With the IRP tracing on the tour prints exactly the same transcript (the layer changes
// nothing a client sees but one more stack location), and the trace holds its events.
func TestTourTraced(t *testing.T) {
	if trace.IsEnabled() {
		t.Skip("a trace is already being recorded (go test -trace)")
	}
	var tr bytes.Buffer
	stop, err := startTraceTo(&tr)
	require.NoError(t, err)
	var out bytes.Buffer
	err = tour(&out)
	stop()
	require.NoError(t, err)
	require.Equal(t, tourTranscript, strings.ReplaceAll(out.String(), "read: EPIPE", "read: ECONNRESET"))
	requireTourTrace(t, tr.Bytes())
}

// `closeserver -trace FILE` is the command the README gives: it exits 0, prints the tour
// and leaves the trace in FILE.
func TestTraceFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the command as a child process")
	}
	path := filepath.Join(t.TempDir(), "tour.trace")
	cmd := exec.Command(os.Args[0], "-trace", path)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var out bytes.Buffer
	cmd.Stdout = &out
	require.NoError(t, cmd.Start())
	killer := time.AfterFunc(waitBound, func() { _ = cmd.Process.Kill() })
	defer killer.Stop()
	require.NoError(t, cmd.Wait(), "exit status 0")
	require.Equal(t, tourTranscript, strings.ReplaceAll(out.String(), "read: EPIPE", "read: ECONNRESET"))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	requireTourTrace(t, b)
}

// A -trace FILE that cannot be created is an error before anything runs.
func TestTraceFlagBadFile(t *testing.T) {
	_, err := startTrace(filepath.Join(t.TempDir(), "no", "such", "dir", "tour.trace"))
	require.ErrorContains(t, err, "-trace")
	require.Nil(t, providerOptions)
}
