//go:build unix || windows

package engine

import "sync"

// postQueue is a loop's bounded Post queue and its UnregisterFunc callbacks, shared by
// both engines. mu guards every field but batch; the portable loop guards its readiness
// notes with mu too, so one lock covers everything its sleep re-checks.
type postQueue struct {
	mu     sync.Mutex
	ring   []func() // posts, a ring bounded by len(ring)
	head   int
	n      int
	unregs []func() // UnregisterFunc callbacks; bounded by registered fds, never refused
	closed bool     // loop has exited: Post fails, UnregisterFunc runs inline
	batch  []func() // loop-owned copy of the drained queue, reused
}

func newPostQueue(maxPosted int) postQueue {
	return postQueue{ring: make([]func(), maxPosted)}
}

// post queues fn; false if the queue is full or closed. No defer: it stays small enough
// to inline into Post.
func (q *postQueue) post(fn func()) bool {
	q.mu.Lock()
	if q.closed || q.n == len(q.ring) {
		q.mu.Unlock()
		return false
	}
	q.ring[(q.head+q.n)%len(q.ring)] = fn
	q.n++
	q.mu.Unlock()
	return true
}

// postUnreg queues an UnregisterFunc callback (never refused for room); false if the
// queue is closed, and the caller then runs fn itself: no handler can run any more.
func (q *postQueue) postUnreg(fn func()) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	q.unregs = append(q.unregs, fn)
	return true
}

// pendingLocked reports whether anything is queued. The caller holds mu.
func (q *postQueue) pendingLocked() bool { return q.n > 0 || len(q.unregs) > 0 }

// drain takes everything queued, in the order the loop runs it: the UnregisterFunc
// callbacks first (they run after their deregistration, and running them early releases
// descriptors sooner), then the posts (first nUnreg entries of b are callbacks). Functions
// queued later wait for the next drain, so one that re-posts itself cannot starve I/O.
// Loop goroutine only; the loop hands b back with recycle once it has run it.
func (q *postQueue) drain() (b []func(), nUnreg int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 && len(q.unregs) == 0 {
		return q.batch[:0], 0 // empty, and recycle keeps the batch's array
	}
	b = append(q.batch[:0], q.unregs...)
	clear(q.unregs)
	q.unregs = q.unregs[:0]
	nUnreg = len(b)
	for q.n > 0 {
		i := q.head
		b = append(b, q.ring[i])
		q.ring[i] = nil
		q.head = (i + 1) % len(q.ring)
		q.n--
	}
	q.head = 0
	return b, nUnreg
}

// recycle keeps b (already cleared by the loop) for the next drain. Loop goroutine only.
func (q *postQueue) recycle(b []func()) { q.batch = b[:0] }

// queued returns the number of posts queued and the bound.
func (q *postQueue) queued() (n, bound int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n, len(q.ring)
}
