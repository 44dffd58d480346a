package linger

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gowsk/gowsk/dispatch"
)

// Config bounds an Engine. A zero field takes its default.
type Config struct {
	// MaxBackground bounds the graceful closes (Background and Timed) running at once.
	// A close that finds the table full resets instead (Stats.ResetRefused). Default 4096.
	MaxBackground int
	// FINTimeout bounds the wait for the peer's FIN after the local graceful disconnect
	// was issued; when it passes the connection is reset (Stats.ResetTimeout). Default 30 s.
	FINTimeout time.Duration
	// PollInterval is how often Timed reads the send queue while it lingers. Default 10 ms.
	PollInterval time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxBackground <= 0 {
		c.MaxBackground = 4096
	}
	if c.FINTimeout <= 0 {
		c.FINTimeout = 30 * time.Second
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 10 * time.Millisecond
	}
	return c
}

// Engine runs the closes of one application (one wsk registration, typically). Its
// methods are safe for concurrent use. Each socket must be handed to the engine once
// (by Background, Hard, Timed or Plain), and after that the caller must make no other
// call on it: the engine owns it until its Close is done.
type Engine struct {
	cfg Config

	mu         sync.Mutex
	live       map[*Close]struct{} // every close not finished yet
	background int                 // live closes holding a background slot
	shutting   bool                // Shutdown has begun: no new background slot
	idle       chan struct{}       // closed when live empties; made by a waiter, nil otherwise

	outcomes  [numOutcomes]atomic.Uint64
	delivered atomic.Uint64
}

// New returns an engine with cfg's bounds.
func New(cfg Config) *Engine {
	return &Engine{cfg: cfg.withDefaults(), live: make(map[*Close]struct{})}
}

// Config returns the bounds in use (defaults filled in). Safe for concurrent use.
func (e *Engine) Config() Config { return e.cfg }

// Stats is a snapshot of an engine's counters. Each field is read on its own.
type Stats struct {
	Background int64  `json:"background"` // graceful closes running now (bounded by MaxBackground)
	Closing    int64  `json:"closing"`    // closes of any kind not finished yet
	Delivered  uint64 `json:"delivered"`  // Timed closes whose data was acknowledged in time

	// Finished closes by outcome.
	Graceful      uint64 `json:"graceful"`
	Plain         uint64 `json:"plain"`
	ResetHard     uint64 `json:"reset_hard"`
	ResetData     uint64 `json:"reset_data"`
	ResetTimeout  uint64 `json:"reset_timeout"`
	ResetLinger   uint64 `json:"reset_linger"`
	ResetRefused  uint64 `json:"reset_refused"`
	ResetPeer     uint64 `json:"reset_peer"`
	ResetShutdown uint64 `json:"reset_shutdown"`
}

// Stats returns a snapshot of the counters. Safe for concurrent use, also after
// Shutdown.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	bg, live := e.background, len(e.live)
	e.mu.Unlock()
	o := func(x Outcome) uint64 { return e.outcomes[x].Load() }
	return Stats{
		Background: int64(bg), Closing: int64(live), Delivered: e.delivered.Load(),
		Graceful: o(Graceful), Plain: o(Plain), ResetHard: o(ResetHard), ResetData: o(ResetData),
		ResetTimeout: o(ResetTimeout), ResetLinger: o(ResetLinger), ResetRefused: o(ResetRefused),
		ResetPeer: o(ResetPeer), ResetShutdown: o(ResetShutdown),
	}
}

// Background is the linger {0,*} close of a connection socket: it returns at once and
// the close goes on as the package doc says. The socket must be connected; use Plain
// for any other socket. The returned Close tells when and how it ended.
func (e *Engine) Background(s *dispatch.Socket) *Close {
	c := newClose(e, s)
	if why, ok := e.admit(c, true); !ok {
		c.abort(why)
		return c
	}
	c.startGraceful()
	return c
}

// Hard is the linger {1,0} close: an abortive disconnect (RST, no TIME_WAIT), then
// CloseSocket. It returns at once; the close IRP completes without waiting on the
// network, so Done follows promptly.
func (e *Engine) Hard(s *dispatch.Socket) *Close {
	c := newClose(e, s)
	e.admit(c, false)
	c.abort(ResetHard)
	return c
}

// Plain closes a socket that has no connection to linger over (a listener, a datagram
// socket, a stream socket never connected): CloseSocket alone, tracked so that
// Shutdown waits for it.
func (e *Engine) Plain(s *dispatch.Socket) *Close {
	c := newClose(e, s)
	e.admit(c, false)
	c.closeNow(Plain)
	return c
}

// admit records c as live. counted asks for a background slot: refused (ok false, with
// the outcome to abort with) while shutting down or when the table is full.
func (e *Engine) admit(c *Close, counted bool) (why Outcome, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.live[c] = struct{}{}
	switch {
	case !counted:
		return Pending, true
	case e.shutting:
		return ResetShutdown, false
	case e.background >= e.cfg.MaxBackground:
		return ResetRefused, false
	}
	c.counted = true
	e.background++
	return Pending, true
}

// finished is called once per Close, by its close IRP's completion routine.
func (e *Engine) finished(c *Close, why Outcome) {
	e.outcomes[why].Add(1)
	e.mu.Lock()
	delete(e.live, c)
	if c.counted {
		e.background--
	}
	if len(e.live) == 0 && e.idle != nil {
		close(e.idle)
		e.idle = nil
	}
	e.mu.Unlock()
}

// Shutdown ends the engine's work: from now on Background and Timed reset at once
// (ResetShutdown); it waits for the closes running until ctx ends, then aborts the rest
// (ResetShutdown) and waits for their close IRPs. It returns nil when everything
// finished by itself, else ctx.Err(). Blocks: never call it from a completion routine.
// Safe for concurrent use (every caller waits); Hard and Plain still work afterwards.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	e.shutting = true
	e.mu.Unlock()
	if e.waitIdle(ctx) == nil {
		return nil
	}
	e.mu.Lock()
	rest := make([]*Close, 0, len(e.live))
	for c := range e.live {
		rest = append(rest, c)
	}
	e.mu.Unlock()
	for _, c := range rest {
		c.abort(ResetShutdown)
	}
	_ = e.waitIdle(context.Background()) // close IRPs never wait on the network
	return ctx.Err()
}

// waitIdle waits until no close is live, or ctx ends.
func (e *Engine) waitIdle(ctx context.Context) error {
	e.mu.Lock()
	if len(e.live) == 0 {
		e.mu.Unlock()
		return nil
	}
	if e.idle == nil {
		e.idle = make(chan struct{})
	}
	ch := e.idle
	e.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
