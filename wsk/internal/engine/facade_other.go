//go:build unix && !linux

package engine

import "time"

// Engine owns a fixed set of loops. Outside Linux it is always the portable engine
// (Config.Portable is implied). Every method is safe for concurrent use.
type Engine struct{ port *portEngine }

// Loop is one loop goroutine with its post queue and timers.
type Loop struct{ port *portLoop }

// FD is one registration of a descriptor with a loop.
type FD struct{ port *portFD }

// Timer is a one-shot function scheduled on a loop by AfterFunc.
type Timer struct{ port *portTimer }

// New starts the portable engine: the loops and their goroutines.
func New(cfg Config) (*Engine, error) { return newPortable(cfg) }

// Close stops every loop and waits for every goroutine of the engine (loops and
// waiters). Idempotent and safe to call concurrently; from a loop goroutine it returns
// without waiting. Descriptors still registered are deregistered, not closed.
func (e *Engine) Close() error { return e.port.close() }

// Register adds fd to a loop (fd mod Loops); h is called on that loop. The engine never
// closes fd. Safe from any goroutine.
func (e *Engine) Register(fd int, h Handler) (*FD, error) { return e.port.register(fd, h) }

// Loops returns the engine's loops (a fresh slice; the loops are shared).
func (e *Engine) Loops() []*Loop { return e.port.loopFacades() }

// Stats returns a snapshot of counters summed over every loop.
func (e *Engine) Stats() Stats { return e.port.stats() }

// Portable reports whether this is the portable engine: always, outside Linux.
func (e *Engine) Portable() bool { return true }

// Index is the loop's position in Engine.Loops (also its pprof label).
func (l *Loop) Index() int { return l.port.index }

// Post queues fn to run on the loop goroutine, FIFO; false if the queue is full or the
// loop has stopped. Safe from any goroutine.
func (l *Loop) Post(fn func()) bool { return l.port.post(fn) }

// AfterFunc runs fn on the loop goroutine once d has elapsed. Safe from any goroutine.
func (l *Loop) AfterFunc(d time.Duration, fn func()) *Timer { return l.port.afterFunc(d, fn) }

// Stop prevents the timer from firing; true if it stopped it. Safe from any goroutine.
func (t *Timer) Stop() bool {
	if t == nil || t.port == nil {
		return false
	}
	return t.port.stop()
}

// Sysfd returns the registered (owner's) descriptor number.
func (f *FD) Sysfd() int { return f.port.fd }

// Loop returns the loop that calls this descriptor's handler.
func (f *FD) Loop() *Loop { return &f.port.loop.facade }

// Unregister stops the handler calls of the descriptor without closing it; see the
// Linux engine's FD.Unregister for the guarantee, which is the same.
func (f *FD) Unregister() error { return f.port.unregister() }

// UnregisterFunc unregisters and runs fn once no handler of the descriptor can be
// running (at once when none is, else on the loop after it returned).
func (f *FD) UnregisterFunc(fn func()) error { return f.port.unregisterFunc(fn) }

// UnregisterCloseFunc is UnregisterFunc for an owner whose fn closes the descriptor.
func (f *FD) UnregisterCloseFunc(fn func()) error { return f.port.unregisterFunc(fn) }

// LoopOf returns the loop of fd's registration, nil if fd is not registered.
func (e *Engine) LoopOf(fd int) *Loop { return e.port.loopOf(fd) }

// isOnLoop reports whether the caller is l's goroutine (tests).
func (l *Loop) isOnLoop() bool { return l.port.onLoop() }

// queued returns the number of functions in l's post queue and its bound (tests).
func (l *Loop) queued() (n, bound int) { return l.port.queued() }

// RearmRead and RearmWrite are the level-triggered engine's half of the edge contract
// (see the package doc, "Edges on a level-triggered poller"): the runtime poller here
// takes its edges from the kernel, so they do nothing. Safe from any goroutine.
func (f *FD) RearmRead() {}

// RearmWrite: see RearmRead.
func (f *FD) RearmWrite() {}
