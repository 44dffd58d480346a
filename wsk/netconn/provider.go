package netconn

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
	"github.com/gowsk/gowsk/wsk/internal/linger"
)

// Provider is one captured WSK provider NPI that the adapters make sockets on: the
// default one (made on first use of the package functions) or one around a
// registration the user brought ([New]). Its methods are safe for concurrent use.
//
// A Provider tracks every socket it made, so that [Provider.Shutdown] can close the
// ones still open, and owns the linger engine that finishes the graceful closes in the
// background.
type Provider struct {
	reg    *wsk.Registration
	npi    wsk.ProviderNPI
	owned  bool // the registration is ours: Shutdown deregisters it
	linger *linger.Engine

	mu       sync.Mutex
	socks    map[*dispatch.Socket]func() // open sockets → their abortive close
	stopping bool
	live     sync.WaitGroup // one per open socket, done when it was closed

	ctr counters
}

// counters are the adapter's own statistics (see Stats).
type counters struct {
	connsOpened, connsClosed atomic.Uint64
}

// Stats are the adapter's counters. Each field is read atomically on its own.
type Stats struct {
	ConnsOpened uint64 `json:"conns_opened"` // TCP connections dialled or accepted
	ConnsClosed uint64 `json:"conns_closed"` // TCP connections closed (handed to the linger engine)
	// Linger is the close engine's: background closes in progress (bounded by
	// Options.MaxClosing) and how every close ended (graceful, or which kind of reset).
	Linger linger.Stats `json:"linger"`
	WSK    wsk.Stats    `json:"wsk"` // the registration's own counters
}

// Options configure [New]. Zero fields take their defaults.
type Options struct {
	// CloseTimeout bounds the wait for the peer's FIN after a graceful close; past it
	// the connection is reset. Default 30 s.
	CloseTimeout time.Duration
	// MaxClosing bounds the graceful closes in progress at once; a close beyond it
	// resets. Default 4096.
	MaxClosing int
}

// ErrShutdown is returned by calls on a Provider after Shutdown began.
var ErrShutdown = errors.New("netconn: provider shut down")

// New captures reg's provider NPI and returns a Provider making sockets on it. The
// registration stays the caller's: Shutdown releases the NPI but does not deregister.
func New(reg *wsk.Registration, opts Options) (*Provider, error) {
	npi, st := reg.CaptureProviderNPI(dispatch.InfiniteWait)
	if st != irp.Success {
		return nil, st.Err()
	}
	return newProvider(reg, npi, false, opts), nil
}

func newProvider(reg *wsk.Registration, npi wsk.ProviderNPI, owned bool, o Options) *Provider {
	return &Provider{reg: reg, npi: npi, owned: owned,
		linger: linger.New(linger.Config{MaxBackground: o.MaxClosing, FINTimeout: o.CloseTimeout}),
		socks:  make(map[*dispatch.Socket]func())}
}

// Registration is the registration the Provider makes its sockets on.
func (p *Provider) Registration() *wsk.Registration { return p.reg }

// Stats returns a snapshot of the counters. Safe for concurrent use.
func (p *Provider) Stats() Stats {
	return Stats{ConnsOpened: p.ctr.connsOpened.Load(), ConnsClosed: p.ctr.connsClosed.Load(),
		Linger: p.linger.Stats(), WSK: p.reg.Stats()}
}

// track records s with its abortive close; false once Shutdown began (the caller then
// closes s itself).
func (p *Provider) track(s *dispatch.Socket, abort func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping {
		return false
	}
	p.socks[s] = abort
	p.live.Add(1)
	return true
}

// stopped reports whether Shutdown began: no new socket may be made (the NPI may be
// released already).
func (p *Provider) stopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopping
}

// untrack forgets s: it is closed, or handed to the linger engine.
func (p *Provider) untrack(s *dispatch.Socket) {
	p.mu.Lock()
	_, ok := p.socks[s]
	delete(p.socks, s)
	p.mu.Unlock()
	if ok {
		p.live.Done()
	}
}

// Shutdown stops the Provider, in this order:
//
//  1. new sockets are refused (ErrShutdown);
//  2. every socket still open (listeners, connections, UDP) is closed abortively;
//  3. the linger engine gets until ctx ends to finish the background closes, then
//     resets the rest and waits for their close IRPs;
//  4. the NPI is released and, for the default provider, the registration
//     deregistered, so nothing of the provider keeps running.
//
// It returns ctx.Err() when step 3 had to reset closes, else nil. It blocks; never call
// it from a completion routine. Calling it again returns nil at once.
func (p *Provider) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	if p.stopping {
		p.mu.Unlock()
		return nil
	}
	p.stopping = true
	aborts := make([]func(), 0, len(p.socks))
	for _, a := range p.socks {
		aborts = append(aborts, a)
	}
	p.mu.Unlock()
	for _, a := range aborts {
		a()
	}
	p.live.Wait() // each abort hands its socket over (or closes it) once its calls returned
	err := p.linger.Shutdown(ctx)
	p.reg.ReleaseProviderNPI()
	if p.owned {
		p.reg.Deregister()
	}
	return err
}

var (
	defaultMu sync.Mutex
	defaultP  *Provider
)

// Default returns the default Provider, registering with WSK on first use (one engine
// loop per GOMAXPROCS). After [Shutdown] the next call registers afresh.
func Default() (*Provider, error) {
	defaultMu.Lock()
	defer defaultMu.Unlock()
	if defaultP != nil {
		return defaultP, nil
	}
	reg, st := wsk.Register(&wsk.ClientNPI{Dispatch: &dispatch.ClientDispatch{Version: dispatch.MakeVersion(1, 0)}},
		wsk.WithLoops(runtime.GOMAXPROCS(0)))
	if st != irp.Success {
		return nil, st.Err()
	}
	npi, st := reg.CaptureProviderNPI(dispatch.InfiniteWait)
	if st != irp.Success {
		reg.Deregister()
		return nil, st.Err()
	}
	defaultP = newProvider(reg, npi, true, Options{})
	return defaultP, nil
}

// Shutdown shuts the default Provider down (see [Provider.Shutdown]); a no-op when none
// was made. Tests call it before goleak's check.
func Shutdown(ctx context.Context) error {
	defaultMu.Lock()
	p := defaultP
	defaultP = nil
	defaultMu.Unlock()
	if p == nil {
		return nil
	}
	return p.Shutdown(ctx)
}
