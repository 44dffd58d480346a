package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" { // TestSignalShutdown runs the command as a child
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// tourTranscript is the tour's full output. The README shows it too
// (TestREADMEShowsTheTour keeps the two in step).
const tourTranscript = `A gowsk server (package wsk: a listen socket, Accept IRPs) on 127.0.0.1,
and a plain net.Conn client as the peer. Each step: what the server called,
with the NTSTATUS it got, and what the peer's read() returned.
== 1. Graceful disconnect, then close: FIN both ways, no reset
   server: Disconnect(graceful, final buffer "BYE\n") -> STATUS_SUCCESS
   peer:   read "BYE\n", then EOF
   peer:   CloseWrite (its FIN): ok
   server: Receive -> STATUS_SUCCESS, 0 bytes (the peer's FIN)
   server: CloseSocket -> STATUS_SUCCESS
   peer:   read again: EOF (no reset)
   resets the provider sent: 0
== 2. Abortive disconnect: RST at once; the error is sticky until close
   server: Disconnect(WSK_FLAG_ABORTIVE) -> STATUS_SUCCESS
   peer:   read: ECONNRESET
   peer:   read again: EOF (Linux reports a reset once)
   server: Receive -> STATUS_CONNECTION_ABORTED (gowsk keeps the first error: sticky)
   server: Send -> STATUS_CONNECTION_ABORTED
   server: CloseSocket -> STATUS_SUCCESS
   resets the provider sent: 1
== 3. Close while still connected: the close protocol resets the connection
   server: Send("hello\n") -> STATUS_SUCCESS, 6 bytes
   peer:   read "hello\n"
   server: CloseSocket -> STATUS_SUCCESS (not disconnected: SO_LINGER{1,0}, then close)
   peer:   read: ECONNRESET
   resets the provider sent: 1
== 4. Close with pending receive IRPs: each is cancelled, the close IRP completes last
   server: Receive #1 -> STATUS_PENDING (the peer sends nothing)
   server: Receive #2 -> STATUS_PENDING (the peer sends nothing)
   server: Receive #3 -> STATUS_PENDING (the peer sends nothing)
   server: CloseSocket -> STATUS_PENDING
   completion order:
     1. receive #1 STATUS_CANCELLED, 0 bytes
     2. receive #2 STATUS_CANCELLED, 0 bytes
     3. receive #3 STATUS_CANCELLED, 0 bytes
     4. close STATUS_SUCCESS
   peer:   read: ECONNRESET
== 5. Calls racing close: each is refused at once or admitted and cancelled
   8 connections; on each, 4 goroutines issue a Receive while the server closes it.
   Which calls get in varies from run to run; these facts do not:
   every Receive either got STATUS_INVALID_HANDLE at once or returned STATUS_PENDING and completed STATUS_CANCELLED: true
   every IRP completed exactly once: true
   every close IRP completed after the receives it admitted: true
   every CloseSocket returned STATUS_PENDING and completed STATUS_SUCCESS: true
   every peer read ECONNRESET (or EPIPE): true
   a Receive after the close completed: STATUS_INVALID_HANDLE
== After Deregister (it waits for every socket to be closed)
   sockets created 13, closed 13, open 0; IRPs pending 0; resets sent 11
tour complete
`

// The tour's whole transcript is pinned: statuses, the completion order, what the peer
// read. The test runs it as `go run` does, then goleak (TestMain) checks that
// Deregister left nothing running.
func TestTour(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, tour(&out))
	// Linux reports an RST that arrives in CLOSE_WAIT as EPIPE.
	// No step of the tour shuts a direction before resetting, so ECONNRESET is what the
	// kernel gives, but either one is "was reset".
	got := strings.ReplaceAll(out.String(), "read: EPIPE", "read: ECONNRESET")
	require.Equal(t, tourTranscript, got)
}

// The README's tour section shows the transcript as `go run ./examples/closeserver`
// prints it.
func TestREADMEShowsTheTour(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	const cmd = "$ go run ./examples/closeserver\n"
	_, block, found := strings.Cut(string(readme), cmd)
	require.True(t, found, "README.md has no %q block", strings.TrimSpace(cmd))
	block, _, found = strings.Cut(block, "```")
	require.True(t, found, "the README's tour block is not closed")
	require.Equal(t, tourTranscript, block)
}

// The racing step claims two outcomes: a call refused at once, and a call admitted and
// then cancelled by the close. Both must really happen, or the step shows nothing.
func TestTourRaceSeesBothOutcomes(t *testing.T) {
	refused, admitted := 0, 0
	for run := 0; run < 10 && (refused == 0 || admitted == 0); run++ {
		tr, err := runTour(io.Discard)
		require.NoError(t, err)
		refused += tr.refused
		admitted += tr.admitted
		t.Logf("run %d: refused %d, admitted %d", run, tr.refused, tr.admitted)
	}
	require.NotZero(t, refused, "no call was refused by the closing socket")
	require.NotZero(t, admitted, "no call was admitted before the close")
}
