//go:build unix || windows

package wsk

// opQueue is a FIFO of admitted ops (socket.recvQ, socket.sendQ), linked through op.next
// in a ring: tail is the newest op and tail.next the oldest. One word per queue and no
// backing array: an idle connection's two empty queues cost 16 bytes and nothing on the
// heap, and queueing allocates nothing (a slice grew, and a slice drained from the head
// regrew, on the request path). Guarded by socket.mu, like the ops' queued flag.
//
// The head is what the pumps, close and failLocked take: push, pop and removing the head
// are O(1), so draining a long queue is linear (TESTING.md case 18). Removing an op from
// the middle (a cancel) walks to it, as the slice's copy did.
type opQueue struct {
	tail *op
}

// empty reports whether no op is queued.
func (q *opQueue) empty() bool { return q.tail == nil }

// head returns the oldest op, or nil.
func (q *opQueue) head() *op {
	if q.tail == nil {
		return nil
	}
	return q.tail.next
}

// single reports whether exactly one op is queued (the one just pushed: the caller pumps).
func (q *opQueue) single() bool { return q.tail != nil && q.tail.next == q.tail }

// push appends o, which must be in no queue (o.next nil).
func (q *opQueue) push(o *op) {
	if o.next != nil {
		panic("wsk: op queued twice (each IRP is completed once, TESTING.md case 11)")
	}
	if q.tail == nil {
		o.next = o
	} else {
		o.next = q.tail.next
		q.tail.next = o
	}
	q.tail = o
}

// pushFront puts o, which must be in no queue, before every queued op.
func (q *opQueue) pushFront(o *op) {
	if q.tail == nil {
		q.push(o)
		return
	}
	if o.next != nil {
		panic("wsk: op queued twice (each IRP is completed once, TESTING.md case 11)")
	}
	o.next = q.tail.next
	q.tail.next = o
}

// remove unlinks o if it is queued here and reports whether it was.
func (q *opQueue) remove(o *op) bool {
	if q.tail == nil || o.next == nil {
		return false
	}
	prev := q.tail
	for prev.next != o {
		prev = prev.next
		if prev == q.tail {
			return false // o is in another queue
		}
	}
	if o == q.tail {
		if prev == o {
			q.tail = nil // o was the only one
		} else {
			q.tail = prev
		}
	}
	prev.next = o.next
	o.next = nil
	return true
}

// next returns the op after o in queue order, or nil after the newest. For walks that
// do not change the queue.
func (q *opQueue) next(o *op) *op {
	if o == q.tail {
		return nil
	}
	return o.next
}
