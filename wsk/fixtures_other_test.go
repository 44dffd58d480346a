//go:build (unix && !linux) || windows

package wsk

import (
	"net/netip"
	"runtime"
	"testing"

	"github.com/gowsk/gowsk/dispatch"
)

// Outside Linux the fixtures of fixtures_linux_test.go do not exist: the tests that need
// them skip (requireFixture). A full backlog drops SYNs on Linux only (Windows refuses
// the connection; under Wine the behaviour is Linux's, not Windows's), and no other OS
// lets a test turn a socket's descriptor into something else under the same number.

// haveFixture: the other Unix systems have killListener (peer_unix_test.go), Windows
// none.
var haveFixture = [len(fixtureNames)]bool{fixKillListener: runtime.GOOS != "windows"}

// resetAtAbort: the RST of an abortive disconnect goes out when the descriptor closes
// (wsk/internal/sock.Reset: no call resets an open connection here).
const resetAtAbort = false

func stuckConnectTarget(t *testing.T, _ string) netip.AddrPort {
	t.Helper()
	missingFixture(t, fixStuckConnect)
	return netip.AddrPort{}
}

func killTransport(t *testing.T, _ *dispatch.Socket) {
	t.Helper()
	missingFixture(t, fixKillTransport)
}

// missingFixture fails a test that uses a fixture this OS lacks without requireFixture.
func missingFixture(t testing.TB, f fixture) {
	t.Helper()
	t.Fatalf("the test uses %s, which this OS lacks: call requireFixture first", fixtureNames[f])
}
