package wsk

import "log/slog"

// Limits bounds what one registration may hold at once. Hitting a bound is never a panic
// and never a hang: the call that would pass it fails with STATUS_INSUFFICIENT_RESOURCES
// (its IRP completed with that status) and Stats.LimitRejections counts it. A zero field
// takes its default (see DefaultLimits).
type Limits struct {
	// MaxPendingPerSocket bounds the IRPs one socket holds pending (sends, receives,
	// connect, disconnect together).
	MaxPendingPerSocket int `json:"max_pending_per_socket"`
	// MaxPendingTotal bounds the IRPs pending on all sockets of the registration.
	MaxPendingTotal int `json:"max_pending_total"`
	// MaxQueuedBytesPerSocket bounds the bytes of send buffers one socket holds pending
	// (WSK does not copy send data: these are the caller's buffers, lent until their IRPs
	// complete, so the bound is on how much memory a slow peer can pin).
	MaxQueuedBytesPerSocket int `json:"max_queued_bytes_per_socket"`
	// MaxSockets bounds the sockets open at once.
	MaxSockets int `json:"max_sockets"`
}

// DefaultLimits are the bounds used for every zero field of the Limits given to
// WithLimits (or all of them without the option).
var DefaultLimits = Limits{
	MaxPendingPerSocket:     1024,
	MaxPendingTotal:         1 << 20,
	MaxQueuedBytesPerSocket: 64 << 20,
	MaxSockets:              1 << 20,
}

// withDefaults fills the zero (or negative) fields of l from DefaultLimits.
func (l Limits) withDefaults() Limits {
	pick := func(v, d int) int {
		if v <= 0 {
			return d
		}
		return v
	}
	return Limits{
		MaxPendingPerSocket:     pick(l.MaxPendingPerSocket, DefaultLimits.MaxPendingPerSocket),
		MaxPendingTotal:         pick(l.MaxPendingTotal, DefaultLimits.MaxPendingTotal),
		MaxQueuedBytesPerSocket: pick(l.MaxQueuedBytesPerSocket, DefaultLimits.MaxQueuedBytesPerSocket),
		MaxSockets:              pick(l.MaxSockets, DefaultLimits.MaxSockets),
	}
}

// Option configures Register.
type Option func(*config)

type config struct {
	log    *slog.Logger
	loops  int
	limits Limits
	obs    Observer // WithObserver (observe.go)
	engine EngineKind
	// unavailable starts the provider "not ready" until makeAvailable (tests of blocked
	// captures, invariants 2 and 3). Not exported: a real provider is ready at once.
	unavailable bool
}

// WithLogger sends the provider's diagnostics (callback panics, contract violations,
// a second Deregister) to log. Without it the provider is silent (slog.DiscardHandler).
func WithLogger(log *slog.Logger) Option {
	return func(c *config) {
		if log != nil {
			c.log = log
		}
	}
}

// WithLoops sets the number of engine loop goroutines (each with its own epoll
// instance on the epoll engine). n <= 0 means 1.
func WithLoops(n int) Option { return func(c *config) { c.loops = n } }

// WithLimits sets the resource bounds; zero fields keep their DefaultLimits value.
func WithLimits(l Limits) Option { return func(c *config) { c.limits = l } }

// withProviderUnavailable starts the registration with the provider not ready (tests).
func withProviderUnavailable() Option { return func(c *config) { c.unavailable = true } }
