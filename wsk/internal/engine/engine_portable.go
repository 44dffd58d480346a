//go:build unix || windows

package engine

import (
	"sync"
	"sync/atomic"
)

// portEngine is the portable engine behind the Engine facade (Config.Portable, and the
// only engine outside Linux): the same loops, post queues and timers as the epoll engine,
// but readiness comes from elsewhere than an epoll set of its own. On Unix it is Go's
// runtime network poller: each registered descriptor is duplicated and wrapped in an
// *os.File, and one waiter goroutine per direction parks in the poller through
// syscall.RawConn. On Windows it is WSAPoll: one poller goroutine per loop watches the
// loop's sockets. Either way each edge becomes a note to the owning loop, which calls
// the Handler there.
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
	// wg counts the loop goroutines and every waiter (Unix) or poller (Windows)
	// goroutine; Close waits for all.
	wg sync.WaitGroup
}

// newPortable starts the portable engine and returns its facade. On Unix it cannot fail:
// it opens no descriptor of its own (loops sleep on a channel). On Windows each loop's
// poller opens a wake-up socket; if one fails, those made before are closed and nothing
// is left running.
func newPortable(cfg Config) (*Engine, error) {
	n, maxPosted := loopSizes(cfg)
	pe := &portEngine{onPanic: cfg.OnPanic, fds: make(map[int]*portFD)}
	for i := 0; i < n; i++ {
		l := newPortLoop(pe, i, maxPosted)
		if err := l.openSys(); err != nil {
			for _, l := range pe.loops {
				l.closeSys()
			}
			return nil, err
		}
		pe.loops = append(pe.loops, l)
	}
	startLoops(&pe.wg, pe.loops)
	for _, l := range pe.loops {
		l.startSys(&pe.wg)
	}
	return &Engine{port: pe}, nil
}

// close is Engine.Close:
//
//  1. Refuse new registrations; deregister every descriptor left and detach it (Unix:
//     close its duplicate, which ends its waiters; the owners' descriptors stay open).
//  2. Stop every loop (and its poller, on Windows): each runs what its queue accepted
//     before, once, and exits.
//  3. Wait for the loops, waiters and pollers, unless called from a loop.
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
			f.detach()
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
