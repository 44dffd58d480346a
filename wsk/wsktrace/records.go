package wsktrace

import (
	"context"
	"log/slog"
	"time"
)

// The slog side: every event is one record at slog.LevelDebug, written with no provider
// lock held (a Handler is application code).

// logging reports whether the logger takes Debug records.
func (r *Recorder) logging() bool {
	return r.log != nil && r.log.Enabled(context.Background(), slog.LevelDebug)
}

// debug writes one Debug record now.
func (r *Recorder) debug(msg string, attrs ...slog.Attr) {
	if r.logging() {
		r.log.LogAttrs(context.Background(), slog.LevelDebug, msg, attrs...)
	}
}

// debugAt writes one Debug record of an event that happened at t (noted under a lock).
func (r *Recorder) debugAt(t time.Time, msg string, attrs ...slog.Attr) {
	rec := slog.NewRecord(t, slog.LevelDebug, msg, 0)
	rec.AddAttrs(attrs...)
	_ = r.log.Handler().Handle(context.Background(), rec)
}

func sockAttr(sr *sockRec) slog.Attr { return slog.Uint64("socket", sr.id) }

// attrs names rec in a record: its socket, its number and its call.
func (rec *irpRec) attrs() []slog.Attr {
	return []slog.Attr{sockAttr(rec.sock), slog.Uint64("irp", rec.id),
		slog.String("call", taskNames[rec.member])}
}
