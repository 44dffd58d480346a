package wsk

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/refcount"
	"github.com/gowsk/gowsk/wsk/internal/engine"
)

// ClientNPI is WSK_CLIENT_NPI: what an application hands to Register. Dispatch.Version is
// the WSK version the application asks for (dispatch.MakeVersion(1, 0)). The value is
// copied by Register; ClientContext is passed back to Dispatch.ClientEvent (no events are
// defined, so it is never called today).
type ClientNPI struct {
	ClientContext any
	Dispatch      *dispatch.ClientDispatch
}

// ProviderNPI is WSK_PROVIDER_NPI: what CaptureProviderNPI returns. Client is passed to
// every member of Dispatch. Both stay valid until Deregister returns; calling Dispatch
// members after ReleaseProviderNPI is a contract breach (the provider cannot tell
// captures apart, so it is not detected while another capture is held).
type ProviderNPI struct {
	Client   *dispatch.Client
	Dispatch *dispatch.ProviderDispatch
}

// Characteristics is WSK_PROVIDER_CHARACTERISTICS: the range of versions the provider
// implements.
type Characteristics struct {
	HighestVersion uint16 `json:"highest_version"`
	LowestVersion  uint16 `json:"lowest_version"`
}

// providerVersion is the one WSK version this provider implements.
var providerVersion = dispatch.MakeVersion(1, 0)

// Registration is WSK_REGISTRATION: one application's binding to the provider, from
// Register to Deregister. Its methods are safe for concurrent use, with the blocking rules
// of each method (CaptureProviderNPI with a wait and Deregister block; never call them from
// a completion routine or event callback).
//
// Lifetime is one rundown (SPEC.md §3.6): every capture, every provider-level call in
// progress, every provider-level IRP pending and every open socket holds a reference on
// the registration; Deregister begins the rundown (no new capture, call or socket) and
// waits for it to drain, then stops the engine.
type Registration struct {
	npi    ClientNPI
	log    *slog.Logger
	limits Limits
	ctr    counters

	client dispatch.Client
	table  dispatch.ProviderDispatch

	rd            refcount.Rundown
	deregistering atomic.Bool
	deregCh       chan struct{} // closed when Deregister begins: wakes blocked captures
	readyCh       chan struct{} // closed when the provider is ready (at once, but for tests)
	readyOnce     sync.Once

	eng    *engine.Engine
	engine EngineKind  // the engine eng is (WithEngine, GOWSK_ENGINE)
	wakes  []*wakeList // per loop of eng, by Loop.Index: the posted looks of its sockets (wake.go)

	// pendingTotal counts socket IRPs pending on every socket (Limits.MaxPendingTotal).
	pendingTotal atomic.Int64

	static staticEvents // WSK_SET_STATIC_EVENT_CALLBACKS (events_static.go)
	obs    *observing   // WithObserver (observe.go); nil without it

	mu         sync.Mutex
	listChange map[*irp.IRP]struct{} // pending WSK_TRANSPORT_LIST_CHANGE IRPs, cancelled by Deregister
}

// Register is WskRegister: it creates a registration for npi and starts the engine
// (WithLoops loop goroutines, stopped by Deregister). npi.Dispatch must be non-nil; its
// Version is checked by CaptureProviderNPI, not here, as in WSK. It returns
// STATUS_INVALID_PARAMETER for a nil npi or dispatch table and STATUS_NOT_SUPPORTED where
// no engine exists for the OS (Windows) or for the one asked (WithEngine, GOWSK_ENGINE). Each success needs exactly one Deregister. Safe for
// concurrent use; each call makes an independent registration.
func Register(npi *ClientNPI, opts ...Option) (*Registration, irp.Status) {
	if npi == nil || npi.Dispatch == nil {
		return nil, irp.InvalidParameter
	}
	cfg := config{log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	r := &Registration{
		npi:        *npi,
		log:        cfg.log,
		limits:     cfg.limits.withDefaults(),
		deregCh:    make(chan struct{}),
		readyCh:    make(chan struct{}),
		listChange: make(map[*irp.IRP]struct{}),
		obs:        newObserving(cfg.obs),
	}
	kind, st := resolveEngine(cfg.engine)
	if st != irp.Success {
		return nil, st
	}
	r.engine = kind
	eng, err := engine.New(engine.Config{Loops: cfg.loops, OnPanic: r.onEnginePanic,
		Portable: kind == EnginePortable})
	if err != nil {
		if err == engine.ErrUnsupported {
			return nil, irp.NotSupported
		}
		return nil, irp.FromError(err)
	}
	r.eng = eng
	r.wakes = newWakeLists(r, eng.Loops())
	r.client.Impl = r
	r.table = r.providerTable()
	if !cfg.unavailable {
		r.makeAvailable()
	}
	return r, irp.Success
}

// makeAvailable marks the provider ready and wakes blocked captures.
func (r *Registration) makeAvailable() { r.readyOnce.Do(func() { close(r.readyCh) }) }

func (r *Registration) onEnginePanic(v any) {
	r.ctr.enginePanics.Add(1)
	r.log.Error("wsk: panic on an engine loop", "value", v)
}

// CaptureProviderNPI is WskCaptureProviderNPI. waitTimeoutMs is dispatch.NoWait (poll,
// never blocks), dispatch.InfiniteWait (block until the provider is ready) or a number of
// milliseconds. It returns:
//
//   - STATUS_SUCCESS and the provider NPI; Dispatch.Version has the requested major and a
//     minor at least the requested one. Each success needs one ReleaseProviderNPI.
//   - STATUS_NOINTERFACE when the requested version is not implemented (a major other
//     than 1, or a minor above the provider's; QueryProviderCharacteristics tells the range).
//   - STATUS_DEVICE_NOT_READY when the provider is not ready within the wait, or once
//     Deregister has begun: new captures fail at once and blocked ones return at once.
//
// Safe for concurrent use; with a wait it blocks, so never call it from a completion
// routine or callback.
func (r *Registration) CaptureProviderNPI(waitTimeoutMs uint32) (ProviderNPI, irp.Status) {
	if r == nil {
		return ProviderNPI{}, irp.InvalidParameter
	}
	if r.deregistering.Load() {
		return ProviderNPI{}, irp.DeviceNotReady
	}
	req := r.npi.Dispatch.Version
	if dispatch.VersionMajor(req) != dispatch.VersionMajor(providerVersion) ||
		dispatch.VersionMinor(req) > dispatch.VersionMinor(providerVersion) {
		return ProviderNPI{}, irp.NoInterface
	}
	if !r.waitReady(waitTimeoutMs) || r.deregistering.Load() || !r.rd.Acquire() {
		return ProviderNPI{}, irp.DeviceNotReady
	}
	r.ctr.captures.Add(1)
	return ProviderNPI{Client: &r.client, Dispatch: &r.table}, irp.Success
}

// waitReady waits for the provider to be ready, for at most waitTimeoutMs, and gives up
// at once when Deregister begins.
func (r *Registration) waitReady(waitTimeoutMs uint32) bool {
	select {
	case <-r.readyCh:
		return true
	default:
	}
	if waitTimeoutMs == dispatch.NoWait {
		return false
	}
	var timeout <-chan time.Time
	if waitTimeoutMs != dispatch.InfiniteWait {
		t := time.NewTimer(time.Duration(waitTimeoutMs) * time.Millisecond)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-r.readyCh:
		return true
	case <-r.deregCh:
		return false
	case <-timeout:
		return false
	}
}

// ReleaseProviderNPI is WskReleaseProviderNPI: it gives back one capture. A release
// without a capture is counted (Stats.UnbalancedRelease) and logged, never a panic.
// Safe for concurrent use; never blocks.
func (r *Registration) ReleaseProviderNPI() {
	if r == nil {
		return
	}
	for {
		n := r.ctr.captures.Load()
		if n <= 0 {
			r.ctr.unbalancedRelease.Add(1)
			r.ctr.misuse.Add(1)
			r.log.Warn("wsk: ReleaseProviderNPI without a capture")
			return
		}
		if r.ctr.captures.CompareAndSwap(n, n-1) {
			r.rd.Release()
			return
		}
	}
}

// QueryProviderCharacteristics is WskQueryProviderCharacteristics: the version range
// (1.0 to 1.0). STATUS_DEVICE_NOT_READY once Deregister has begun. Safe for concurrent
// use; never blocks.
func (r *Registration) QueryProviderCharacteristics() (Characteristics, irp.Status) {
	if r == nil {
		return Characteristics{}, irp.InvalidParameter
	}
	if r.deregistering.Load() {
		return Characteristics{}, irp.DeviceNotReady
	}
	return Characteristics{HighestVersion: providerVersion, LowestVersion: providerVersion}, irp.Success
}

// Deregister is WskDeregister. It wakes blocked captures (they return
// STATUS_DEVICE_NOT_READY), refuses new captures, provider-level calls and sockets,
// cancels pending WSK_TRANSPORT_LIST_CHANGE IRPs, and then blocks until every capture has
// been released, every provider-level call has returned, every provider-level IRP has
// completed and every socket has been closed (its close IRP completed). Last it stops the
// engine's loop goroutines.
//
// A second Deregister (concurrent or later) is counted in Stats.DoubleDeregister, logged,
// and returns at once. Deregister blocks: never call it from a completion routine or
// callback (it would wait for the loop it runs on).
func (r *Registration) Deregister() {
	if r == nil {
		return
	}
	if !r.deregistering.CompareAndSwap(false, true) {
		r.ctr.doubleDeregister.Add(1)
		r.ctr.misuse.Add(1)
		r.log.Warn("wsk: Deregister called more than once")
		return
	}
	close(r.deregCh)
	r.cancelListChanges()
	_ = r.rd.Wait(context.Background())
	_ = r.eng.Close()
}

// Stats returns a snapshot of the registration's counters. Cheap (atomic loads only) and
// safe for concurrent use, also after Deregister.
func (r *Registration) Stats() Stats {
	if r == nil {
		return Stats{}
	}
	s := r.ctr.snapshot()
	s.IRPViolations = irp.ViolationCount()
	s.UnbalancedRundownReleases = refcount.UnbalancedReleases()
	return s
}

// enterCall opens a provider-level call: false once Deregister has begun (the call must
// fail with STATUS_DEVICE_NOT_READY). A true result holds one rundown reference that
// leaveCall gives back, when the call returns, or, when the call leaves an IRP pending,
// when that IRP has completed.
func (r *Registration) enterCall() bool {
	return !r.deregistering.Load() && r.rd.Acquire()
}

func (r *Registration) leaveCall() { r.rd.Release() }

// regOf finds the registration behind a WSK_CLIENT.
func regOf(c *dispatch.Client) *Registration {
	if c == nil {
		return nil
	}
	r, _ := c.Impl.(*Registration)
	return r
}
