//go:build unix || windows

package engine

import (
	"container/heap"
	"sync"
	"time"
)

// timerEntry is what a loop's timer heap orders: both engines' timers embed it.
type timerEntry struct {
	when  time.Time
	fn    func()
	index int // position in the heap; -1 once fired, stopped or dropped
}

// timerQueue is a loop's pending timers, shared by both engines: a min-heap on when
// guarded by mu, closed once the loop has shut down (a timer pushed then never fires).
type timerQueue struct {
	mu     sync.Mutex
	heap   timerHeap
	closed bool
}

// push schedules t unless the queue is closed. first reports that t is now the
// earliest timer: the loop may be sleeping with a later timeout and needs a wakeup.
func (q *timerQueue) push(t *timerEntry) (first bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	heap.Push(&q.heap, t)
	return t.index == 0
}

// stop removes t; false if it had already fired (or started firing), had been
// stopped, or was dropped by close.
func (q *timerQueue) stop(t *timerEntry) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&q.heap, t.index)
	return true
}

// popDue removes and returns the function of the earliest timer due at now; ok false
// when none is. The timer leaves the heap under mu before its function runs, so a
// Stop racing with firing returns false exactly when the function runs.
func (q *timerQueue) popDue(now time.Time) (fn func(), ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.heap) == 0 || q.heap[0].when.After(now) {
		return nil, false
	}
	return heap.Pop(&q.heap).(*timerEntry).fn, true
}

// next returns when the earliest timer is due; ok false when there is none.
func (q *timerQueue) next() (when time.Time, ok bool) {
	q.mu.Lock()
	if len(q.heap) > 0 {
		when, ok = q.heap[0].when, true
	}
	q.mu.Unlock()
	return when, ok
}

// close drops every pending timer (each then reports stopped false) and refuses
// later pushes.
func (q *timerQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	for _, t := range q.heap {
		t.index = -1
	}
	clear(q.heap)
	q.heap = q.heap[:0]
}

// timerHeap is a min-heap on when; each entry tracks its index so stop removes in
// O(log n).
type timerHeap []*timerEntry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].when.Before(h[j].when) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*timerEntry)
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
