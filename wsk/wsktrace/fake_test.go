package wsktrace

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
)

// fakeTracer keeps the recorder's tasks, logs and regions as lines of text, in the order
// they happened, so that tests can assert the names without parsing a binary trace.
//
//	task 3 WskReceive parent 2     a task starts (parent 0: none)
//	log 3 irp: submitted           a log on task 3
//	region 2 close 5: ...          a region starts on task 2
//	region-end 2 close 5: ...      and ends
//	end 3                          task 3 ends
type fakeTracer struct {
	off atomic.Bool // enabled reports !off

	mu     sync.Mutex
	n      int
	events []string
}

type fakeTaskKey struct{}

func fakeTaskOf(ctx context.Context) int {
	id, _ := ctx.Value(fakeTaskKey{}).(int)
	return id
}

func (f *fakeTracer) add(format string, args ...any) {
	f.mu.Lock()
	f.events = append(f.events, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

func (f *fakeTracer) enabled() bool { return !f.off.Load() }

func (f *fakeTracer) task(parent context.Context, kind string) (context.Context, func()) {
	f.mu.Lock()
	f.n++
	id := f.n
	f.events = append(f.events, fmt.Sprintf("task %d %s parent %d", id, kind, fakeTaskOf(parent)))
	f.mu.Unlock()
	return context.WithValue(parent, fakeTaskKey{}, id), func() { f.add("end %d", id) }
}

func (f *fakeTracer) log(ctx context.Context, category, message string) {
	f.add("log %d %s: %s", fakeTaskOf(ctx), category, message)
}

func (f *fakeTracer) region(ctx context.Context, name string) func() {
	id := fakeTaskOf(ctx)
	f.add("region %d %s", id, name)
	return func() { f.add("region-end %d %s", id, name) }
}

// snapshot copies the events so far.
func (f *fakeTracer) snapshot() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.events...)
}

// fields splits an event into its kind, its task and the rest.
func fields(ev string) (kind string, task int, rest string) {
	kind, after, _ := strings.Cut(ev, " ")
	num, rest, _ := strings.Cut(after, " ")
	fmt.Sscan(num, &task)
	return kind, task, rest
}

// family returns, in order, the events of task root and of its child tasks, each rewritten
// with the task's place instead of its number: "socket" for root, "WskReceive#2" for the
// second WskReceive child.
func family(events []string, root int) []string {
	names := map[int]string{root: "socket"}
	count := map[string]int{}
	var out []string
	for _, ev := range events {
		kind, task, rest := fields(ev)
		if kind == "task" {
			typ, parent, _ := strings.Cut(rest, " parent ")
			var p int
			fmt.Sscan(parent, &p)
			if p != root {
				continue
			}
			count[typ]++
			names[task] = fmt.Sprintf("%s#%d", typ, count[typ])
			out = append(out, "task "+names[task])
			continue
		}
		name, ok := names[task]
		if !ok {
			continue
		}
		if rest == "" {
			out = append(out, kind+" "+name)
		} else {
			out = append(out, kind+" "+name+" "+rest)
		}
	}
	return out
}

// socketTask is the number of the socket task whose first log has the given category
// ("connection", "listen"); the n-th such one (from 1).
func socketTask(events []string, category string, n int) int {
	for _, ev := range events {
		kind, task, rest := fields(ev)
		if kind == "log" && strings.HasPrefix(rest, "socket: socket #") && strings.HasSuffix(rest, ", "+category) {
			if n--; n == 0 {
				return task
			}
		}
	}
	return 0
}
