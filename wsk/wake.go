//go:build unix || windows

package wsk

import (
	"sync"

	"github.com/gowsk/gowsk/wsk/internal/engine"
)

// wakeList is one engine loop's set of sockets waiting for a posted look: a Readable or a
// Writable that no edge brings (postReadable, postWritable). One function per loop, made
// once, goes through the loop's post queue and runs every look waiting; a socket costs
// two bits and a slot while it waits, and no closure of its own (a method value s.Readable
// kept per socket was 24 bytes of every connection, package doc # Memory per connection).
//
//	field    meaning (guarded by mu)
//	queue    the sockets with a look waiting, each once: socket.wake != 0 iff it is here
//	         or in the batch a drain is working through and not yet taken
//	spare    the other buffer: a drain takes queue and leaves spare in its place, so a
//	         steady flow of looks allocates nothing
//	posted   drainFn is in the loop's post queue (or its zero-delay timer) and has not
//	         taken the queue yet: further wakes only join the queue
//
// A socket's wake bits (wakeRead, wakeWrite) are guarded by mu too. Lock order: socket.mu
// before wakeList.mu (posts are made with the socket's lock held); the drain holds
// wakeList.mu only to take the queue and each socket's bits, never while a look runs.
//
// Bounds: a socket is queued at most once, so the queue never holds more than the
// loop's sockets; one drain is posted at a time.
type wakeList struct {
	mu      sync.Mutex
	queue   []*socket
	spare   []*socket
	posted  bool
	loop    *engine.Loop
	reg     *Registration
	drainFn func()
}

// The bits of socket.wake.
const (
	wakeRead  uint8 = 1 << iota // s.Readable is due
	wakeWrite                   // s.Writable is due
)

// newWakeLists makes one wakeList per loop of the registration's engine, indexed by
// engine.Loop.Index.
func newWakeLists(r *Registration, loops []*engine.Loop) []*wakeList {
	ws := make([]*wakeList, len(loops))
	for _, l := range loops {
		w := &wakeList{loop: l, reg: r}
		w.drainFn = w.drain
		ws[l.Index()] = w
	}
	return ws
}

// wakeUp makes s's loop run the look named by bit soon. Wakes of a socket already waiting
// for that look add nothing: the look runs after them, so it sees what they announced.
func (s *socket) wakeUp(bit uint8) {
	if s.efd == nil {
		return
	}
	w := s.reg.wakes[s.efd.Loop().Index()]
	w.mu.Lock()
	if s.wake&bit != 0 {
		w.mu.Unlock()
		return
	}
	if s.wake == 0 {
		w.queue = append(w.queue, s)
	}
	s.wake |= bit
	post := !w.posted
	w.posted = true
	w.mu.Unlock()
	if post {
		// The posted queue is bounded (engine MaxPosted); when it is full, a zero-delay
		// timer (unbounded, also run on the loop) takes the drain instead, so a wake-up
		// is never lost.
		if !w.loop.Post(w.drainFn) {
			w.loop.AfterFunc(0, w.drainFn)
		}
	}
}

// drain runs on the loop: it takes the queue and runs each socket's looks, Readable
// before Writable. Wakes made meanwhile (by the looks too) join the new queue and post the
// next drain.
func (w *wakeList) drain() {
	w.mu.Lock()
	batch := w.queue
	w.queue, w.spare = w.spare, nil
	w.posted = false
	w.mu.Unlock()
	for k, s := range batch {
		batch[k] = nil
		w.mu.Lock()
		bits := s.wake
		s.wake = 0
		w.mu.Unlock()
		if bits&wakeRead != 0 {
			w.look(s, wakeRead)
		}
		if bits&wakeWrite != 0 {
			w.look(s, wakeWrite)
		}
	}
	w.mu.Lock()
	if w.spare == nil {
		w.spare = batch[:0]
	}
	w.mu.Unlock()
}

// look runs one look of s. A panic in it (a completion routine it ran panicked, after
// its socket was aborted: socket.completeOne) is recovered and counted as the engine
// counts a panicking posted function (Stats.EnginePanics), so the looks after it in the
// batch still run.
func (w *wakeList) look(s *socket, bit uint8) {
	defer func() {
		if v := recover(); v != nil {
			w.reg.onEnginePanic(v)
		}
	}()
	if bit == wakeRead {
		s.Readable()
	} else {
		s.Writable()
	}
}
