package refcount

import (
	"log/slog"
	"os"
	"sync/atomic"
)

// verifier turns misuse that is otherwise tolerated (an unbalanced Release) into a
// panic naming the broken invariant, like Driver Verifier turns it into a bug check.
var verifier atomic.Bool

// unbalanced counts releases that had no matching acquire (normal mode clamps them).
var unbalanced atomic.Uint64

// unbalancedWarned records that the one warning of the process was logged.
var unbalancedWarned atomic.Bool

func init() { verifier.Store(os.Getenv("GOWSK_VERIFIER") == "1") }

// SetVerifier switches verifier mode on or off and returns the previous setting. In
// verifier mode an unbalanced Release panics; otherwise it is clamped and counted.
// It is safe to call concurrently, but is meant for tests and start-up.
func SetVerifier(on bool) (was bool) { return verifier.Swap(on) }

// Verifier reports whether verifier mode is on.
func Verifier() bool { return verifier.Load() }

// UnbalancedReleases returns how many releases, process-wide, had no matching acquire
// and were clamped (normal mode). Tests compare it before and after.
func UnbalancedReleases() uint64 { return unbalanced.Load() }

const msgUnbalanced = "refcount: inconsistent rundown state: release without acquire"

// reportUnbalanced is called after the counter has been restored. Outside verifier mode
// the first unbalanced release of the process is also logged to slog.Default at Warn
// level, so that a clamped misuse does not go unseen; later ones are only counted.
func reportUnbalanced(n uint64) {
	if verifier.Load() {
		panic(msgUnbalanced)
	}
	unbalanced.Add(n)
	if !unbalancedWarned.Load() && unbalancedWarned.CompareAndSwap(false, true) {
		slog.Default().Warn("refcount: release without acquire clamped and counted; later ones "+
			"are only counted in refcount.UnbalancedReleases() (GOWSK_VERIFIER=1 makes them panic)",
			"releases", n)
	}
}
