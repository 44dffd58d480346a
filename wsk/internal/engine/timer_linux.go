//go:build linux

package engine

import (
	"container/heap"
	"time"
)

// Timer is a one-shot function scheduled on a loop by AfterFunc.
type Timer struct {
	loop  *Loop
	when  time.Time
	fn    func()
	index int // position in the loop's heap; -1 once fired, stopped or dropped

	port *portTimer // non-nil: a timer of the portable engine; the rest is unused
}

// AfterFunc runs fn on the loop goroutine once d has elapsed (d <= 0: at
// the loop's next turn). It is safe from any goroutine. After the engine
// has closed it returns a Timer that never fires.
func (l *Loop) AfterFunc(d time.Duration, fn func()) *Timer {
	if l.port != nil {
		return l.port.afterFunc(d, fn)
	}
	t := &Timer{loop: l, when: time.Now().Add(d), fn: fn, index: -1}
	if fn == nil {
		return t
	}
	l.tmu.Lock()
	if l.tclosed {
		l.tmu.Unlock()
		return t
	}
	heap.Push(&l.timers, t)
	first := t.index == 0
	l.tmu.Unlock()
	if first {
		// The loop may be sleeping with a later timeout. wake is a no-op
		// when the loop is awake: it recomputes the timeout before it
		// sleeps.
		l.wake()
	}
	return t
}

// Stop prevents the timer from firing. It returns true if it stopped the
// timer, false if the timer had already fired (or started firing), had
// been stopped, or was dropped by Close. Safe from any goroutine.
func (t *Timer) Stop() bool {
	if t != nil && t.port != nil {
		return t.port.stop()
	}
	if t == nil || t.loop == nil {
		return false
	}
	l := t.loop
	l.tmu.Lock()
	defer l.tmu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&l.timers, t.index)
	return true
}

// runTimers fires every due timer. Each is removed under tmu before it
// runs, so Stop racing with firing returns false exactly when fn runs.
func (l *Loop) runTimers() {
	now := time.Now()
	for {
		l.tmu.Lock()
		if len(l.timers) == 0 || l.timers[0].when.After(now) {
			l.tmu.Unlock()
			return
		}
		t := heap.Pop(&l.timers).(*Timer)
		l.tmu.Unlock()
		l.st.timers.Add(1)
		l.call(t.fn)
	}
}

// timerHeap is a min-heap on when; each Timer tracks its index so Stop
// removes in O(log n).
type timerHeap []*Timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].when.Before(h[j].when) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*Timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	t.index = -1
	*h = old[:n-1]
	return t
}
