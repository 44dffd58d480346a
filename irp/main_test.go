package irp

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain honours GOWSK_VERIFIER=1 (read in init), so the whole suite can be run
// a second time in verifier mode: GOWSK_VERIFIER=1 go test ./irp.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// withVerifier runs f with verifier mode forced to on, restoring the old mode.
func withVerifier(t *testing.T, on bool, f func(t *testing.T)) {
	t.Helper()
	old := SetVerifier(on)
	defer SetVerifier(old)
	f(t)
}

// expectViolation checks that fn commits the violation named name: in verifier mode
// it must panic with a message naming the bug check, otherwise the counter grows.
func expectViolation(t *testing.T, name string, fn func()) {
	t.Helper()
	before := ReadStats().Violations[name]
	var msg string
	func() {
		defer func() {
			if r := recover(); r != nil {
				msg, _ = r.(string)
			}
		}()
		fn()
	}()
	if Verifier() {
		require.True(t, strings.HasPrefix(msg, "irp: bug check 0x"), "panic message %q", msg)
		require.Contains(t, msg, name)
	} else {
		require.Empty(t, msg, "must not panic outside verifier mode")
	}
	require.Equal(t, before+1, ReadStats().Violations[name])
}

// bothModes runs f with the verifier off and on.
func bothModes(t *testing.T, f func(t *testing.T)) {
	t.Run("verifier=off", func(t *testing.T) { withVerifier(t, false, f) })
	t.Run("verifier=on", func(t *testing.T) { withVerifier(t, true, f) })
}
