package refcount

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUnbalancedReleaseWarnsOnce: outside verifier mode an unbalanced release is logged to
// slog.Default the first time it happens in the process, and only counted after.
func TestUnbalancedReleaseWarnsOnce(t *testing.T) {
	withVerifier(t, false)
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	unbalancedWarned.Store(false) // as if this were the process's first

	before := UnbalancedReleases()
	var r Rundown
	for range 3 {
		r.Release() // the misuse: clamped and counted
	}
	require.Equal(t, before+3, UnbalancedReleases())
	require.Zero(t, r.Count())
	out := buf.String()
	require.Equal(t, 1, strings.Count(out, "level=WARN"), out)
	require.Contains(t, out, "refcount: release without acquire")
}
