//go:build (unix && !linux) || windows

package wsk

import (
	"net/netip"
	"testing"

	"github.com/gowsk/gowsk/dispatch"
)

// Outside Linux the fixtures of fixtures_linux_test.go do not exist: the tests that need
// them are skipped.

// resetAtAbort: the RST of an abortive disconnect goes out when the descriptor closes
// (wsk/internal/sock.Reset: no call resets an open connection here).
const resetAtAbort = false

// haveStuckConnect: stuckConnectTarget skips here; a test that can do without it checks.
const haveStuckConnect = false

// stuckConnectTarget: a full backlog drops SYNs on Linux only (Windows refuses the
// connection, and under Wine the behaviour is Linux's, not Windows's).
func stuckConnectTarget(t *testing.T, _ string) netip.AddrPort {
	t.Helper()
	t.Skip("needs a connect that stays pending: a SYN-dropping listener (Linux)")
	return netip.AddrPort{}
}

// killTransport: no other OS lets a test turn a socket's descriptor into something else
// under the same number (Linux: dup3 of an epoll descriptor).
func killTransport(t *testing.T, _ *dispatch.Socket) {
	t.Helper()
	t.Skip("needs a descriptor that stops being a socket (dup3, Linux)")
}
