//go:build unix

package engine

import (
	"container/heap"
	"time"
)

// portTimer is a Timer of the portable engine.
type portTimer struct {
	facade Timer // what AfterFunc hands out; facade.port is this timer
	loop   *portLoop
	when   time.Time
	fn     func()
	index  int // position in the heap; -1 once fired, stopped or dropped
}

// afterFunc is Loop.AfterFunc.
func (l *portLoop) afterFunc(d time.Duration, fn func()) *Timer {
	t := &portTimer{loop: l, when: time.Now().Add(d), fn: fn, index: -1}
	t.facade.port = t
	if fn == nil {
		return &t.facade
	}
	l.tmu.Lock()
	if l.tclosed {
		l.tmu.Unlock()
		return &t.facade
	}
	heap.Push(&l.timers, t)
	first := t.index == 0
	l.tmu.Unlock()
	if first {
		l.wake()
	}
	return &t.facade
}

// stop is Timer.Stop.
func (t *portTimer) stop() bool {
	l := t.loop
	l.tmu.Lock()
	defer l.tmu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&l.timers, t.index)
	return true
}

// runTimers fires every due timer, each removed under tmu before it runs.
func (l *portLoop) runTimers() {
	now := time.Now()
	for {
		l.tmu.Lock()
		if len(l.timers) == 0 || l.timers[0].when.After(now) {
			l.tmu.Unlock()
			return
		}
		t := heap.Pop(&l.timers).(*portTimer)
		l.tmu.Unlock()
		l.st.timers.Add(1)
		l.call(t.fn)
	}
}

type portTimerHeap []*portTimer

func (h portTimerHeap) Len() int           { return len(h) }
func (h portTimerHeap) Less(i, j int) bool { return h[i].when.Before(h[j].when) }
func (h portTimerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *portTimerHeap) Push(x any) {
	t := x.(*portTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *portTimerHeap) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	t.index = -1
	*h = old[:n-1]
	return t
}
