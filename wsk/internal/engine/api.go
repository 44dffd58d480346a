package engine

import "errors"

// Errors returned by the engine. They are sentinel values so callers can use
// errors.Is; the provider maps them to NTSTATUS values (ErrClosed →
// STATUS_INVALID_DEVICE_STATE / STATUS_CANCELLED, ErrQueueFull →
// STATUS_INSUFFICIENT_RESOURCES).
var (
	// ErrClosed is returned by Register after Close has started.
	ErrClosed = errors.New("engine: closed")
	// ErrNotRegistered is returned by Unregister on an FD that is no
	// longer registered (second Unregister, or the engine already closed
	// and dropped it).
	ErrNotRegistered = errors.New("engine: fd not registered")
	// ErrBadFD is returned by Register for a negative descriptor or a nil
	// handler, by the portable engine for a descriptor it cannot watch, and
	// on Windows for a value above 2^32-1 or a handle that is not a socket.
	ErrBadFD = errors.New("engine: bad descriptor or nil handler")
	// ErrUnsupported is returned by New on operating systems without any
	// engine (Plan 9, js, wasip1): none has a readiness model on raw
	// sockets (neither epoll, nor the runtime poller, nor WSAPoll).
	ErrUnsupported = errors.New("engine: unsupported OS")
)

// DefaultMaxPosted is the per-loop bound on queued Post functions when
// Config.MaxPosted is zero.
const DefaultMaxPosted = 65536

// Config configures New. The zero value is valid.
type Config struct {
	// Loops is the number of loop goroutines (each with its own epoll
	// instance, or on Windows its own WSAPoll poller goroutine). 0 means 1.
	Loops int
	// MaxPosted bounds each loop's Post queue; a Post onto a full queue
	// returns false instead of blocking. 0 means DefaultMaxPosted.
	MaxPosted int
	// OnPanic, if non-nil, receives the value of every panic recovered
	// from user code (handlers, posted functions, timer functions). It
	// runs on the loop goroutine; a panic inside OnPanic itself is
	// swallowed (and still counted once).
	OnPanic func(v any)
	// Portable selects the portable engine (Go's runtime poller, see the
	// package doc) on Linux, where the epoll engine is the default. Outside
	// Linux the portable engine (on Windows: on WSAPoll) is the only one and
	// this field is ignored.
	Portable bool
}

// Handler receives readiness notifications for a registered descriptor.
// Both methods run on the owning loop goroutine, never concurrently with
// each other or with any other code of that loop; they must not block
// (they run at the engine's equivalent of DISPATCH_LEVEL).
//
// Notifications are edge-triggered: after Readable the handler must read
// until EAGAIN (or remember that it did not), because no further
// Readable arrives until new data does. The same holds for Writable.
// Whoever reads or writes the descriptor calls FD.RearmRead (FD.RearmWrite)
// after an EAGAIN: an engine whose poller is level-triggered watches a
// direction again only then (package doc, "Edges on a level-triggered
// poller"); the edge-triggered engines ignore the call.
type Handler interface {
	// Readable reports EPOLLIN, EPOLLRDHUP, EPOLLHUP or EPOLLERR (Windows:
	// POLLRDNORM, POLLHUP or POLLERR).
	Readable()
	// Writable reports EPOLLOUT, EPOLLERR or EPOLLHUP (Windows: POLLWRNORM,
	// POLLERR or POLLHUP).
	Writable()
}

// HangupHandler is an optional extension of Handler. When the handler
// implements it, a read-readiness event that carries EPOLLRDHUP, EPOLLHUP
// or EPOLLERR (on Windows POLLHUP or POLLERR; the portable engine on Unix
// cannot tell and reports every read edge so) calls ReadableHangup instead
// of Readable: the peer's FIN, a hang-up or an error may be waiting behind
// the data. An edge without them says only that data arrived: a handler
// that then reads less than it asked for has emptied the receive queue,
// and the next arrival (data, FIN or reset) brings a new edge, so it may
// skip the read that would only return EAGAIN (and, on a level-triggered
// poller, rearms there as if it had met EAGAIN). Same goroutine and rules
// as Readable.
type HangupHandler interface {
	Handler
	ReadableHangup()
}

// Stats is a snapshot of engine counters, summed over all loops. Each
// field is read atomically on its own; the snapshot as a whole is not
// a consistent cut.
type Stats struct {
	Registered int64  // descriptors currently registered
	Events     uint64 // handler calls dispatched (Readable + Writable)
	// StaleEvents counts readiness dropped for a dead registration: epoll
	// events whose fd/seq tag did not match; portable notes whose
	// registration was unregistered before delivery; on Windows also
	// POLLNVAL (a socket closed without Unregister).
	StaleEvents uint64
	Posts       uint64 // posted functions run
	TimersFired uint64 // timer functions run
	Panics      uint64 // panics recovered from user code
	// Wakeups counts the wakeups loops consumed: eventfd (epoll) or channel
	// (portable), plus on Windows the pollers' wake-ups (each WSAPoll that
	// returned for the wake-up socket).
	Wakeups uint64
	// Waiters counts the portable engine's waiter goroutines, parked in the
	// runtime poller: two per registered descriptor. Always 0 on epoll and
	// on Windows (one poller per loop watches every socket).
	Waiters int64
}
