//go:build unix

package engine

import (
	"sync"
	"sync/atomic"
)

// portEngine is the portable engine behind the Engine facade (Config.Portable, and the
// only engine outside Linux): the same loops, post queues and timers as the epoll engine,
// but readiness comes from Go's runtime network poller instead of an epoll set of its own.
// Each registered descriptor is duplicated and wrapped in an *os.File; one waiter
// goroutine per direction parks in the poller through syscall.RawConn and, on each edge,
// hands a notification to the owning loop, which calls the Handler there.
type portEngine struct {
	loops   []*portLoop
	onPanic func(any)

	next atomic.Uint32 // round-robin loop choice

	// Descriptor table by the owner's descriptor number, guarded by fdmu. It is the
	// engine's, not a loop's: loops are chosen round-robin (a duplicate takes a number
	// for each registration, so numbers alternate and fd mod Loops would not spread).
	fdmu     sync.Mutex
	fds      map[int]*portFD
	fdclosed bool

	closeMu sync.Mutex
	closed  atomic.Bool
	// wg counts the loop goroutines and every waiter goroutine; Close waits for all.
	wg sync.WaitGroup
}

// newPortable starts the portable engine and returns its facade. It cannot fail: it opens
// no descriptor of its own (loops sleep on a channel).
func newPortable(cfg Config) (*Engine, error) {
	n, maxPosted := loopSizes(cfg)
	pe := &portEngine{onPanic: cfg.OnPanic, fds: make(map[int]*portFD)}
	for i := 0; i < n; i++ {
		pe.loops = append(pe.loops, newPortLoop(pe, i, maxPosted))
	}
	startLoops(&pe.wg, pe.loops)
	return &Engine{port: pe}, nil
}

// close is Engine.Close:
//
//  1. Refuse new registrations; deregister every descriptor left and close its duplicate,
//     which ends its waiters (the owners' descriptors stay open).
//  2. Stop every loop: each runs what its queue accepted before, once, and exits.
//  3. Wait for the loops and the waiters, unless called from a loop.
func (e *portEngine) close() error {
	e.closeMu.Lock()
	defer e.closeMu.Unlock()
	if !e.closed.Swap(true) {
		e.fdmu.Lock()
		e.fdclosed = true
		left := make([]*portFD, 0, len(e.fds))
		for fd, f := range e.fds {
			f.unregistered.Store(true)
			delete(e.fds, fd)
			f.loop.st.registered.Add(-1)
			left = append(left, f)
		}
		e.fdmu.Unlock()
		for _, f := range left {
			f.closeFile()
		}
		stopLoops(e.loops)
	}
	waitLoops(&e.wg, e.loops)
	return nil
}

// loopOf is Engine.LoopOf: the loop of fd's registration, nil if there is none.
func (e *portEngine) loopOf(fd int) *Loop {
	e.fdmu.Lock()
	defer e.fdmu.Unlock()
	if f := e.fds[fd]; f != nil {
		return &f.loop.facade
	}
	return nil
}

func (e *portEngine) loopFacades() []*Loop {
	out := make([]*Loop, len(e.loops))
	for i, l := range e.loops {
		out[i] = &l.facade
	}
	return out
}

func (e *portEngine) stats() Stats {
	var s Stats
	for _, l := range e.loops {
		l.st.addTo(&s)
	}
	return s
}
