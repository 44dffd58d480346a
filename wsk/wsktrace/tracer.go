package wsktrace

import (
	"context"
	"runtime/trace"
)

// tracer is where the recorder writes tasks, logs and regions: runtime/trace in a
// program, a fake that keeps the names in tests. Every method is safe for concurrent use;
// a region's end must be called on the goroutine that started it.
type tracer interface {
	// enabled reports whether events are being recorded now.
	enabled() bool
	// task starts a task of type kind under the task parent carries, and returns the
	// context that carries the new task and the function that ends it.
	task(parent context.Context, kind string) (ctx context.Context, end func())
	// log records message, under category, on the task ctx carries.
	log(ctx context.Context, category, message string)
	// region starts a region named name on the task ctx carries, and returns its end.
	region(ctx context.Context, name string) (end func())
}

// runtimeTracer is runtime/trace.
type runtimeTracer struct{}

func (runtimeTracer) enabled() bool { return trace.IsEnabled() }

func (runtimeTracer) task(parent context.Context, kind string) (context.Context, func()) {
	ctx, t := trace.NewTask(parent, kind)
	return ctx, t.End
}

func (runtimeTracer) log(ctx context.Context, category, message string) {
	trace.Log(ctx, category, message)
}

func (runtimeTracer) region(ctx context.Context, name string) func() {
	return trace.StartRegion(ctx, name).End
}
