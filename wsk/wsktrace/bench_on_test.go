//go:build linux

package wsktrace

import (
	"io"
	"log/slog"
	"runtime/trace"
	"testing"

	"github.com/gowsk/gowsk/wsk"
)

// BenchmarkEchoIRPObserved is BenchmarkEchoIRP with the recorder installed: idle (no
// trace running, no logger: what it costs to leave it installed), recording a
// runtime/trace (to io.Discard), and writing slog Debug records (to io.Discard).
func BenchmarkEchoIRPObserved(b *testing.B) {
	b.Run("idle", func(b *testing.B) { benchEcho(b, false, wsk.WithObserver(New(nil))) })
	b.Run("tracing", func(b *testing.B) {
		if err := trace.Start(io.Discard); err != nil {
			b.Skip("a trace is already running:", err)
		}
		defer trace.Stop()
		benchEcho(b, false, wsk.WithObserver(New(nil)))
	})
	b.Run("slog", func(b *testing.B) {
		log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))
		benchEcho(b, false, wsk.WithObserver(New(log)))
	})
}

// BenchmarkPendingIRPObserved is BenchmarkPendingIRP with the recorder installed, idle.
func BenchmarkPendingIRPObserved(b *testing.B) {
	b.Run("idle", func(b *testing.B) { benchEcho(b, true, wsk.WithObserver(New(nil))) })
}
