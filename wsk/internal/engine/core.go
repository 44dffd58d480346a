//go:build unix || windows

package engine

import (
	"sync/atomic"
	"time"
)

// loopCore is what the loops of both engines share, embedded by each: the post queue,
// the timers, the counters, and the code that runs user functions on the loop
// goroutine. What differs between the engines is how a loop sleeps, wakes and learns
// of readiness.
type loopCore struct {
	goid atomic.Uint64 // id of the loop goroutine, for Close-from-loop detection
	stop atomic.Bool   // set by Engine.Close; the loop exits at its next turn

	posts   postQueue
	timers  timerQueue
	st      loopStats
	onPanic func(any) // Config.OnPanic
}

func newLoopCore(maxPosted int, onPanic func(any)) loopCore {
	return loopCore{posts: newPostQueue(maxPosted), onPanic: onPanic}
}

// onLoop reports whether the caller is this loop's goroutine.
func (c *loopCore) onLoop() bool {
	id := c.goid.Load()
	return id != 0 && id == curGoid()
}

// loopStats are one loop's counters, summed by Engine.Stats.
type loopStats struct {
	registered atomic.Int64
	events     atomic.Uint64
	stale      atomic.Uint64
	posts      atomic.Uint64
	timers     atomic.Uint64
	panics     atomic.Uint64
	wakeups    atomic.Uint64
	waiters    atomic.Int64 // the portable engine's waiter goroutines
}

// addTo adds the counters to s.
func (st *loopStats) addTo(s *Stats) {
	s.Registered += st.registered.Load()
	s.Events += st.events.Load()
	s.StaleEvents += st.stale.Load()
	s.Posts += st.posts.Load()
	s.TimersFired += st.timers.Load()
	s.Panics += st.panics.Load()
	s.Wakeups += st.wakeups.Load()
	s.Waiters += st.waiters.Load()
}

func (c *loopCore) call(fn func()) {
	defer c.recoverUser()
	fn()
}

// recoverUser keeps a panicking callback from killing the loop: the panic
// is counted and handed to Config.OnPanic.
func (c *loopCore) recoverUser() {
	if v := recover(); v != nil {
		c.st.panics.Add(1)
		if c.onPanic != nil {
			func() {
				defer func() { _ = recover() }()
				c.onPanic(v)
			}()
		}
	}
}

// runAfterHandler is the tail of UnregisterFunc, once the descriptor is unregistered:
// it runs fn at once unless a handler call of the descriptor is in progress (inHandler),
// else queues fn for the loop, to run after that call; queued reports the latter, and the
// caller then wakes the loop. Unregister stored unregistered (sequentially consistent)
// before the load of inHandler: a handler call that has not set inHandler yet will see
// it and not run (FD.inHandler). A stopped loop refuses the callback, and fn then runs
// at once too: no handler can run any more.
func (c *loopCore) runAfterHandler(inHandler *atomic.Bool, fn func()) (queued bool) {
	if !inHandler.Load() || !c.posts.postUnreg(fn) {
		fn()
		return false
	}
	return true
}

// runPosted drains the queue once: UnregisterFunc callbacks first, then the
// posts accepted so far. Functions posted while the batch runs wait for the
// next turn, so a function that re-posts itself cannot starve I/O.
func (c *loopCore) runPosted() {
	b, nUnreg := c.posts.drain()
	for i, fn := range b {
		if i >= nUnreg {
			c.st.posts.Add(1)
		}
		c.call(fn)
		b[i] = nil
	}
	c.posts.recycle(b)
}

// runTimers fires every due timer. Each is removed from the queue before it
// runs, so Stop racing with firing returns false exactly when fn runs.
func (c *loopCore) runTimers() {
	now := time.Now()
	for {
		fn, ok := c.timers.popDue(now)
		if !ok {
			return
		}
		c.st.timers.Add(1)
		c.call(fn)
	}
}
