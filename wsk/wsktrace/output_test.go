package wsktrace

import (
	"bytes"
	"log/slog"
	"runtime/trace"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
)

// closeThreePending is the scenario both outputs are checked on: three receives pending
// on an accepted connection, then its close.
func closeThreePending(t *testing.T, e *env) {
	s, _ := e.accept()
	var recvs []*posted
	for range 3 {
		recvs = append(recvs, receive(s))
	}
	e.close(s)
	for _, r := range recvs {
		require.Equal(t, irp.Cancelled, r.wait(t).Status)
	}
}

// The slog records tell the same story, one record per event at Debug level, in the
// order of each IRP's life, with the socket's and the IRP's numbers.
func TestSlogRecords(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rec := New(log) // runtime/trace is not running: the records alone
	e := newEnv(t, wsk.WithObserver(rec))
	closeThreePending(t, e)

	var got []string
	for line := range strings.Lines(buf.String()) {
		// Drop the time: keep the level, the message and the attributes.
		_, after, ok := strings.Cut(line, " level=")
		require.True(t, ok, line)
		if strings.Contains(after, "socket=2") {
			got = append(got, strings.TrimSpace(after))
		}
	}
	want := []string{`DEBUG msg=socket socket=2 category=connection`}
	for k := range 3 {
		irpN := string(rune('4' + k)) // IRPs 1-3: the listen socket's Bind, GetLocalAddress, Accept
		want = append(want, `DEBUG msg="irp submitted" socket=2 irp=`+irpN+` call=WskReceive`)
	}
	want = append(want,
		`DEBUG msg="irp submitted" socket=2 irp=7 call=WskCloseSocket`,
		`DEBUG msg="irp pending" socket=2 irp=7 call=WskCloseSocket`,
		`DEBUG msg="close step" socket=2 step="1-3: calls drained, new calls refused"`,
		`DEBUG msg="close step" socket=2 step="4: wait for running callbacks"`,
		`DEBUG msg="close step" socket=2 step="5: cancel every pending IRP"`)
	for k := range 3 {
		irpN := string(rune('4' + k))
		want = append(want,
			`DEBUG msg="irp pending" socket=2 irp=`+irpN+` call=WskReceive`,
			`DEBUG msg="irp completed" socket=2 irp=`+irpN+` call=WskReceive status=STATUS_CANCELLED information=0 pending_returned=true cancel=false`)
	}
	want = append(want,
		`DEBUG msg="close step" socket=2 step="6: reset the connection"`,
		`DEBUG msg="close step" socket=2 step="7: close the descriptor"`,
		`DEBUG msg="close step" socket=2 step="8: complete the close IRP"`,
		`DEBUG msg="irp completed" socket=2 irp=7 call=WskCloseSocket status=STATUS_SUCCESS information=0 pending_returned=true cancel=false`,
		`DEBUG msg="socket closed" socket=2`)
	require.Equal(t, want, got)
	e.closeListen()
	requireForgotten(t, rec)
}

// A logger that takes only Info records gets none, and with no trace running the recorder
// then does nothing at all.
func TestSlogBelowDebugIsOff(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	rec := New(log)
	require.False(t, rec.on())
	e := newEnv(t, wsk.WithObserver(rec))
	closeThreePending(t, e)
	require.Empty(t, buf.String())
}

// With runtime/trace running, the recorder writes a real trace: it starts with the Go
// trace header and holds the names of the tasks, regions and logs (the format stores
// them as plain strings; no parser is needed to find them).
func TestRuntimeTrace(t *testing.T) {
	if trace.IsEnabled() {
		t.Skip("a trace is already being recorded (go test -trace)")
	}
	var buf bytes.Buffer
	require.NoError(t, trace.Start(&buf))
	rec := New(nil)
	e := newEnv(t, wsk.WithObserver(rec))
	require.True(t, rec.on())
	closeThreePending(t, e)
	trace.Stop()

	b := buf.Bytes()
	require.True(t, bytes.HasPrefix(b, []byte("go 1.")), "no Go trace header: %q", b[:min(len(b), 16)])
	for _, name := range []string{
		"socket", "WskReceive", "WskCloseSocket", "irp", "submitted", "pending",
		"completed STATUS_CANCELLED, Information 0", "completed STATUS_SUCCESS, Information 0",
		"close 5: cancel every pending IRP", "close 8: complete the close IRP",
		"1-3: calls drained, new calls refused", "6: reset the connection",
	} {
		require.True(t, bytes.Contains(b, []byte(name)), "the trace lacks %q", name)
	}
	e.closeListen()
	requireForgotten(t, rec)
}
