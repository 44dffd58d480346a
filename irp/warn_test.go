package irp

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// recordHandler keeps the records logged through it.
type recordHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordHandler) WithGroup(string) slog.Handler            { return h }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}

// TestViolationWarnsOncePerKind: outside verifier mode a counted violation is logged to
// slog.Default the first time its kind happens in the process, and only counted after.
func TestViolationWarnsOncePerKind(t *testing.T) {
	h := &recordHandler{}
	old := slog.Default()
	slog.SetDefault(slog.New(h))
	t.Cleanup(func() { slog.SetDefault(old) })
	violationWarned[vMultipleComplete].Store(false) // as if this were the process's first

	withVerifier(t, false, func(t *testing.T) {
		before := ViolationCount()
		for range 3 {
			i := Allocate(1)
			require.Equal(t, Success, i.Enter(devA))
			i.Complete(Success, 0)
			i.Complete(Success, 0) // the misuse: counted and ignored
			i.Free()
		}
		require.Equal(t, before+3, ViolationCount())
		require.Equal(t, ViolationCount(), sumViolations(ReadStats().Violations))
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	require.Len(t, h.recs, 1, "one warning for the first of the kind")
	r := h.recs[0]
	require.Equal(t, slog.LevelWarn, r.Level)
	var name string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "name" {
			name = a.Value.String()
		}
		return true
	})
	require.Equal(t, "MULTIPLE_IRP_COMPLETE_REQUESTS", name)
}

func sumViolations(m map[string]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}
