//go:build unix || windows

package wsk

import "testing"

// fixture is an OS facility a test needs besides real sockets, to provoke what a real
// stack does rarely: fixtures_linux_test.go and peer_unix_test.go have them, and each
// OS's haveFixture says which it has.
type fixture int

const (
	fixStuckConnect  fixture = iota // a connect that stays pending (stuckConnectTarget)
	fixKillTransport                // a descriptor that stops being a socket (killTransport)
	fixKillListener                 // a listener that dies under its number (killListener)
)

var fixtureNames = [...]string{
	fixStuckConnect:  "a connect that stays pending: a SYN-dropping listener (Linux)",
	fixKillTransport: "a descriptor that stops being a socket: dup3 over it (Linux)",
	fixKillListener:  "a listener that dies under its number: shutdown on it (Unix)",
}

// requireFixture skips t where the OS lacks f. A test calls it first, before it sets
// anything up: a skip in the middle would leave its sockets and callbacks behind.
func requireFixture(t testing.TB, f fixture) {
	t.Helper()
	if !haveFixture[f] {
		t.Skipf("needs %s", fixtureNames[f])
	}
}
