//go:build linux

package engine

import (
	"sync"
	"sync/atomic"
)

// Engine owns a fixed set of loops. Every method is safe for concurrent use.
type Engine struct {
	loops   []*Loop
	seq     atomic.Uint32 // registration sequence (fdseq); 0 is reserved for the wake eventfd
	onPanic func(any)

	closeMu sync.Mutex
	closed  atomic.Bool
	wg      sync.WaitGroup

	port *portEngine // non-nil: the portable engine (Config.Portable); the rest is unused
}

// New creates the loops and starts one goroutine per loop. On error
// nothing is left running.
func New(cfg Config) (*Engine, error) {
	if cfg.Portable {
		return newPortable(cfg)
	}
	n, maxPosted := loopSizes(cfg)
	e := &Engine{onPanic: cfg.OnPanic}
	for i := 0; i < n; i++ {
		l, err := newLoop(e, i, maxPosted)
		if err != nil {
			for _, l := range e.loops {
				l.closeFDs()
			}
			return nil, err
		}
		e.loops = append(e.loops, l)
	}
	startLoops(&e.wg, e.loops)
	return e, nil
}

// Close stops every loop and waits for the loop goroutines to exit. It is
// idempotent and safe to call concurrently; every caller returns only after
// the loops have stopped. It must not be called from a loop goroutine (it
// would wait for itself); doing so returns without waiting.
//
// Descriptors still registered are removed from epoll but not closed: the
// owner closes them. Functions already posted (and UnregisterFunc
// callbacks) still run once on the loop before it exits; pending timers are
// dropped without running. After Close, Register returns ErrClosed, Post
// returns false and AfterFunc returns a Timer that never fires.
func (e *Engine) Close() error {
	if e.port != nil {
		return e.port.close()
	}
	e.closeMu.Lock()
	defer e.closeMu.Unlock()
	if !e.closed.Swap(true) {
		stopLoops(e.loops)
	}
	waitLoops(&e.wg, e.loops)
	return nil
}

// Register adds fd to one loop's epoll set (edge-triggered, for IN, OUT
// and RDHUP) and returns its registration. h is called on that loop.
// The engine does not own fd: it never closes it. Safe from any goroutine,
// including a loop goroutine.
//
// The loop is chosen by fd number (fd mod Loops), not round-robin: one
// number always lands in the same epoll set and descriptor table, so a
// double registration is refused (EEXIST) and a number reused after the
// owner closed it without unregistering retires the dead registration
// instead of leaving it behind in another loop. Descriptor numbers are
// allocated densely by the kernel, which spreads them evenly.
func (e *Engine) Register(fd int, h Handler) (*FD, error) {
	if e.port != nil {
		return e.port.register(fd, h)
	}
	if fd < 0 || h == nil {
		return nil, ErrBadFD
	}
	if e.closed.Load() {
		return nil, ErrClosed
	}
	return e.loops[fd%len(e.loops)].register(fd, h)
}

// Loops returns the engine's loops (a fresh slice; the loops are shared).
func (e *Engine) Loops() []*Loop {
	if e.port != nil {
		return e.port.loopFacades()
	}
	return append([]*Loop(nil), e.loops...)
}

// Stats returns a snapshot of counters summed over every loop.
func (e *Engine) Stats() Stats {
	if e.port != nil {
		return e.port.stats()
	}
	var s Stats
	for _, l := range e.loops {
		l.st.addTo(&s)
	}
	return s
}

// Portable reports whether this is the portable engine (Config.Portable).
func (e *Engine) Portable() bool { return e.port != nil }

// nextSeq returns a nonzero registration sequence number. Wrapping after
// 2^32-1 registrations is harmless: a stale event would have to survive in
// a loop's event batch across four billion registrations to collide.
func (e *Engine) nextSeq() uint32 {
	for {
		if s := e.seq.Add(1); s != 0 {
			return s
		}
	}
}
