package engine

import "testing"

// skipOnPortable skips a test of an epoll-only detail when the run is on the portable
// engine; why names the detail.
func skipOnPortable(t testing.TB, e *Engine, why string) {
	t.Helper()
	if e.Portable() {
		t.Skip("epoll engine only: " + why)
	}
}
