//go:build (unix && !linux) || windows

package engine

import "time"

// Engine owns a fixed set of loops. Outside Linux it is always the portable engine
// (Config.Portable is implied): readiness from the runtime poller on Unix, from WSAPoll
// on Windows (package doc). Every method is safe for concurrent use.
type Engine struct{ port *portEngine }

// Loop is one loop goroutine with its post queue and timers.
type Loop struct{ port *portLoop }

// FD is one registration of a descriptor (on Windows: a SOCKET handle) with a loop.
type FD struct{ port *portFD }

// Timer is a one-shot function scheduled on a loop by AfterFunc.
type Timer struct{ port *portTimer }

// New starts the portable engine: the loops and their goroutines (and on Windows one
// poller goroutine per loop, with its wake-up socket). On error nothing is left running.
func New(cfg Config) (*Engine, error) { return newPortable(cfg) }

// Close stops every loop and waits for every goroutine of the engine (loops, and the
// waiters on Unix or the pollers on Windows). Idempotent and safe to call concurrently;
// from a loop goroutine it returns without waiting. Descriptors still registered are
// deregistered, not closed.
func (e *Engine) Close() error { return e.port.close() }

// Register adds fd to a loop (round-robin); h is called on that loop. The engine never
// closes fd. Safe from any goroutine, including a loop goroutine. A handler call may
// start before Register returns (as on epoll, the first readiness is reported at once).
//
// On Windows fd is a SOCKET handle converted to int. Handle values are 32 bits
// significant (Windows keeps them so for 32/64-bit interop), so a negative value or one
// above 2^32-1 cannot be a handle and is refused with ErrBadFD, as is a handle that is
// not a socket. A handle value that is registered already retires that registration
// (its FD's Unregister returns ErrNotRegistered): Windows reuses the value of a closed
// handle at once, and nothing tells a second Register of one socket from a new socket
// under the old value of one its owner closed without Unregister.
func (e *Engine) Register(fd int, h Handler) (*FD, error) { return e.port.register(fd, h) }

// Loops returns the engine's loops (a fresh slice; the loops are shared). Safe from any
// goroutine.
func (e *Engine) Loops() []*Loop { return e.port.loopFacades() }

// Stats returns a snapshot of counters summed over every loop. Safe from any goroutine.
func (e *Engine) Stats() Stats { return e.port.stats() }

// Portable reports whether this is the portable engine: always, outside Linux.
func (e *Engine) Portable() bool { return true }

// Index is the loop's position in Engine.Loops (also its pprof label). Safe from any
// goroutine.
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

// Sysfd returns the registered (owner's) descriptor number. Safe from any goroutine.
func (f *FD) Sysfd() int { return f.port.fd }

// Loop returns the loop that calls this descriptor's handler. Safe from any goroutine.
func (f *FD) Loop() *Loop { return &f.port.loop.facade }

// Unregister stops the handler calls of the descriptor without closing it; see the
// Linux engine's FD.Unregister for the guarantee, which is the same. Safe from any
// goroutine, including the FD's own handler.
func (f *FD) Unregister() error { return f.port.unregister() }

// UnregisterFunc unregisters and runs fn once no handler of the descriptor can be
// running (at once when none is, else on the loop after it returned). Safe from any
// goroutine, including the FD's own handler.
func (f *FD) UnregisterFunc(fn func()) error { return f.port.unregisterFunc(fn) }

// UnregisterCloseFunc is UnregisterFunc for an owner whose fn closes the descriptor.
// Safe from any goroutine, including the FD's own handler.
func (f *FD) UnregisterCloseFunc(fn func()) error { return f.port.unregisterFunc(fn) }

// LoopOf returns the loop of fd's registration, nil if fd is not registered. Safe from
// any goroutine.
func (e *Engine) LoopOf(fd int) *Loop { return e.port.loopOf(fd) }

// isOnLoop reports whether the caller is l's goroutine (tests).
func (l *Loop) isOnLoop() bool { return l.port.onLoop() }

// queued returns the number of functions in l's post queue and its bound (tests).
func (l *Loop) queued() (n, bound int) { return l.port.queued() }

// RearmRead is the owner's half of the edge contract on a level-triggered poller (package
// doc, "Edges on a level-triggered poller"): the owner calls it after a read met EAGAIN
// (WSAEWOULDBLOCK). On Windows it makes the loop's poller watch the read direction again
// (waking the poller if it sleeps without it); a direction already watched costs one
// atomic load. On Unix the runtime poller takes its edges from the kernel and it does
// nothing. Safe from any goroutine, also after Unregister or Close (it then does
// nothing).
func (f *FD) RearmRead() { f.port.rearm(dirRead) }

// RearmWrite is RearmRead for writes: after a send met EAGAIN (WSAEWOULDBLOCK).
func (f *FD) RearmWrite() { f.port.rearm(dirWrite) }
