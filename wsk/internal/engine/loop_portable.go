//go:build unix || windows

package engine

import (
	"sync/atomic"
	"time"
)

// portLoop is one loop of the portable engine: a goroutine, a bounded post queue, a queue
// of readiness notifications (from the waiters on Unix, from the loop's poller on
// Windows), and a timer heap. It sleeps on a channel (parked, holding no P or thread)
// with a runtime timer for the earliest due timer.
type portLoop struct {
	e      *portEngine
	index  int
	facade Loop // what FD.Loop and Engine.Loops hand out; facade.port is this loop

	// sleeping and wakePending follow the epoll loop's protocol (Loop.sleeping): a
	// waker publishes its work, then sends a token only if the loop announced it
	// sleeps and no token is on its way; the loop announces, then re-checks its work.
	sleeping    atomic.Bool
	wakePending atomic.Bool
	wakeCh      chan struct{} // capacity 1: at most one token is ever in flight
	sleepTimer  *time.Timer   // stopped unless the loop sleeps with a timer due

	loopCore // post queue, timers, counters, running user functions

	// Readiness notes, guarded by posts.mu with the post queue (one lock for all that
	// sleep re-checks). ready holds at most one entry per registered descriptor and
	// direction (portFD.pending), so it is bounded by 2 × registrations.
	ready      []readyNote
	readyBatch []readyNote // loop-owned copy of ready, reused

	loopSys // nothing on Unix; the WSAPoll poller on Windows
}

// readyNote says that a waiter saw an edge in one direction of f.
type readyNote struct {
	f   *portFD
	dir int // dirRead or dirWrite
}

func newPortLoop(e *portEngine, index, maxPosted int) *portLoop {
	t := time.NewTimer(time.Hour)
	t.Stop()
	l := &portLoop{
		e:          e,
		index:      index,
		wakeCh:     make(chan struct{}, 1),
		sleepTimer: t,
		loopCore:   newLoopCore(maxPosted, e.onPanic),
	}
	l.facade.port = l
	return l
}

// post is Loop.Post.
func (l *portLoop) post(fn func()) bool {
	if fn == nil {
		return false
	}
	if !l.posts.post(fn) {
		return false
	}
	l.wake()
	return true
}

// wake makes a sleeping (or about to sleep) loop return from sleep.
func (l *portLoop) wake() {
	if l.sleeping.Load() && l.wakePending.CompareAndSwap(false, true) {
		select {
		case l.wakeCh <- struct{}{}:
		default:
		}
	}
}

// requestStop makes the loop exit at its next turn (Engine.Close).
func (l *portLoop) requestStop() {
	l.stop.Store(true)
	l.wake()
	l.stopSys()
}

func (l *portLoop) run() {
	l.goid.Store(curGoid())
	for !l.stop.Load() {
		l.sleep()
		l.sleeping.Store(false)
		l.dispatchReady()
		l.runPosted()
		l.runTimers()
	}
	l.shutdown()
}

// sleep announces the loop is about to sleep, re-checks for work published before (see
// sleeping) and parks until a wake token or the earliest timer.
func (l *portLoop) sleep() {
	l.sleeping.Store(true)
	if l.stop.Load() {
		return
	}
	l.posts.mu.Lock()
	pending := l.posts.pendingLocked() || len(l.ready) > 0
	l.posts.mu.Unlock()
	if pending {
		return
	}
	d, ok := l.untilTimer()
	switch {
	case !ok:
		<-l.wakeCh
	case d <= 0:
		return
	default:
		l.sleepTimer.Reset(d)
		select {
		case <-l.wakeCh:
		case <-l.sleepTimer.C:
			l.sleepTimer.Stop()
			return // a token sent meanwhile stays in wakeCh; the next sleep takes it
		}
		l.sleepTimer.Stop()
	}
	// The token is consumed: a later waker must send again.
	l.wakePending.Store(false)
	l.st.wakeups.Add(1)
}

// untilTimer returns the time until the earliest timer, ok false when there is none.
func (l *portLoop) untilTimer() (time.Duration, bool) {
	when, ok := l.timers.next()
	if !ok {
		return 0, false
	}
	return time.Until(when), true
}

// dispatchReady delivers the notes queued so far. Each note's pending flag is cleared
// before its handler runs: an edge during the call queues a new note, so no readiness
// the handler did not consume is lost.
func (l *portLoop) dispatchReady() {
	l.posts.mu.Lock()
	if len(l.ready) == 0 {
		l.posts.mu.Unlock()
		return
	}
	b := l.readyBatch[:0]
	b, l.ready = l.ready, b
	l.posts.mu.Unlock()
	for i := range b {
		l.deliver(b[i].f, b[i].dir)
		b[i] = readyNote{}
	}
	l.readyBatch = b[:0]
}

// deliver calls one handler method under the same Dekker pair as the epoll loop
// (FD.inHandler): no call starts once Unregister has returned.
func (l *portLoop) deliver(f *portFD, dir int) {
	f.pending[dir].Store(false)
	f.inHandler.Store(true)
	defer f.inHandler.Store(false)
	if f.unregistered.Load() {
		l.st.stale.Add(1)
		return
	}
	l.st.events.Add(1)
	defer l.recoverUser()
	if dir == dirWrite {
		f.h.Writable()
		return
	}
	hup := f.readHangup() // whether the edge may carry a hang-up (fdSys says)
	if hh, ok := f.h.(HangupHandler); ok && hup {
		hh.ReadableHangup()
	} else {
		f.h.Readable()
	}
}

// shutdown runs on the loop after stop (Engine.Close deregistered the descriptors
// already): drop the timers, close the queue (Post fails, UnregisterFunc runs inline),
// then run what it accepted before, once, and drop the readiness notes.
func (l *portLoop) shutdown() {
	l.timers.close()

	l.posts.mu.Lock()
	l.posts.closed = true
	clear(l.ready)
	l.ready = l.ready[:0]
	l.posts.mu.Unlock()
	l.runPosted()
}

// queued returns the number of functions in the post queue and its bound.
func (l *portLoop) queued() (n, bound int) {
	return l.posts.queued()
}
