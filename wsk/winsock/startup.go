package winsock

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/refcount"
	"github.com/gowsk/gowsk/wsk"
	"github.com/gowsk/gowsk/wsk/internal/linger"
)

// MakeWord is MAKEWORD(low, high): a Winsock version (MakeWord(2, 2) is 2.2).
func MakeWord(low, high uint8) uint16 { return uint16(high)<<8 | uint16(low) }

// WSAData is WSADATA, reduced: the version the session runs.
type WSAData struct {
	Version     uint16
	HighVersion uint16
	Description string
}

const tagThread uint64 = 0x5C

// maxHandles bounds each handle table (sockets, provider handles, threads).
const maxHandles = 1 << 20

// Option configures WSAStartup.
type Option func(*config)

type config struct {
	layers       []Provider
	log          *slog.Logger
	linger       linger.Config
	cleanupGrace time.Duration
}

// WithLayer installs p as a layered provider above the providers installed so far
// (the base provider first): the last WithLayer is the top of the chain, the one the
// switch calls.
func WithLayer(p Provider) Option { return func(c *config) { c.layers = append(c.layers, p) } }

// WithLogger sends the session's diagnostics (panics in APCs and completion routines,
// unclosed thread contexts at cleanup, provider misuse) to log.
func WithLogger(log *slog.Logger) Option { return func(c *config) { c.log = log } }

// WithBackgroundCloses bounds the sockets closing in the background at once (linger
// {0,*} and delivered {1,n} closes waiting for the peer's FIN; a close beyond it resets)
// and the wait for the peer's FIN (reset when it passes). Zero keeps a default (4096,
// 30 s).
func WithBackgroundCloses(max int, finTimeout time.Duration) Option {
	return func(c *config) { c.linger.MaxBackground, c.linger.FINTimeout = max, finTimeout }
}

// WithCleanupGrace sets how long WSACleanup lets background closes finish before it
// resets the rest (default 2 s).
func WithCleanupGrace(d time.Duration) Option { return func(c *config) { c.cleanupGrace = d } }

// WSA is one Winsock session: what a process gets from WSAStartup, until WSACleanup.
// All its functions are safe for concurrent use, except that a [Thread] belongs to one
// goroutine. Calls after WSACleanup fail with WSANOTINITIALISED.
type WSA struct {
	cfg config
	log *slog.Logger

	reg *wsk.Registration
	npi wsk.ProviderNPI
	lin *linger.Engine
	up  *Upcalls

	catalog []ProtocolInfo  // what WSAEnumProtocols lists: the top of each chain
	top     *WSPProcTable   // the provider the switch calls
	tables  []*WSPProcTable // every provider, base first (Cleanup runs top first)

	sockets *handleTable[*entry]    // SOCKETs of the application (switch.go)
	wpu     *handleTable[*wpuEntry] // WPUCreateSocketHandle handles (wpu.go)
	threads *handleTable[*Thread]

	dupMu sync.Mutex
	dups  map[uint64]*sock // protocol infos not yet used, by key (dup.go)
	dupID atomic.Uint64

	calls   refcount.Rundown // every API call in progress; WSACleanup drains it
	cleaned atomic.Bool      // WSACleanup has begun
	dead    atomic.Bool      // torn down: upcalls fail too

	ctr counters
}

type counters struct {
	apcsRun, panics, doubleCompletions, packetsDropped, unclosedThreads atomic.Uint64
	leakedHandles, lostAPCs                                             atomic.Uint64
}

// Stats is a snapshot of a session's counters.
type Stats struct {
	Sockets            int       `json:"sockets"`          // SOCKETs open now
	ProviderHandles    int       `json:"provider_handles"` // WPU handles not yet closed
	Threads            int       `json:"threads"`          // thread contexts open now
	APCsRun            uint64    `json:"apcs_run"`
	Panics             uint64    `json:"panics"` // APCs and completion routines that panicked
	DoubleCompletions  uint64    `json:"double_completions"`
	PacketsDropped     uint64    `json:"packets_dropped"`
	UnclosedThreads    uint64    `json:"unclosed_threads"` // thread contexts still open at WSACleanup
	LeakedHandles      uint64    `json:"leaked_handles"`   // provider handles still open at WSACleanup
	LostAPCs           uint64    `json:"lost_apcs"`        // routines whose thread was closed or full
	BackgroundCloses   int64     `json:"background_closes"`
	ClosesGraceful     uint64    `json:"closes_graceful"`
	ClosesReset        uint64    `json:"closes_reset"`         // resets of every cause below
	ResetsLingerExpiry uint64    `json:"resets_linger_expiry"` // {1,n}: not delivered within n
	ResetsFINTimeout   uint64    `json:"resets_fin_timeout"`
	ResetsLateData     uint64    `json:"resets_late_data"`
	ResetsTableFull    uint64    `json:"resets_table_full"`
	WSK                wsk.Stats `json:"wsk"`
}

// Stats returns a snapshot. Safe for concurrent use, also after WSACleanup.
func (w *WSA) Stats() Stats {
	l := w.lin.Stats()
	return Stats{
		Sockets: w.sockets.count(), ProviderHandles: w.wpu.count(), Threads: w.threads.count(),
		APCsRun: w.ctr.apcsRun.Load(), Panics: w.ctr.panics.Load(),
		DoubleCompletions: w.ctr.doubleCompletions.Load(), PacketsDropped: w.ctr.packetsDropped.Load(),
		UnclosedThreads: w.ctr.unclosedThreads.Load(), LeakedHandles: w.ctr.leakedHandles.Load(), LostAPCs: w.ctr.lostAPCs.Load(),
		BackgroundCloses: l.Background, ClosesGraceful: l.Graceful,
		ClosesReset: l.ResetHard + l.ResetData + l.ResetTimeout + l.ResetLinger + l.ResetRefused +
			l.ResetPeer + l.ResetShutdown,
		ResetsLingerExpiry: l.ResetLinger, ResetsFINTimeout: l.ResetTimeout,
		ResetsLateData: l.ResetData, ResetsTableFull: l.ResetRefused,
		WSK: w.reg.Stats(),
	}
}

// WSAStartup starts a session: version 2.0 to 2.2 (MakeWord(2, 2)); any other is
// WSAVERNOTSUPPORTED. It registers with wsk, starts the base provider and every
// WithLayer provider over it. Each success needs one WSACleanup.
func WSAStartup(version uint16, opts ...Option) (*WSA, WSAData, error) {
	if uint8(version) != 2 || version>>8 > 2 {
		return nil, WSAData{}, &Error{Op: "WSAStartup", Code: WSAVERNOTSUPPORTED}
	}
	w := &WSA{dups: make(map[uint64]*sock)}
	for _, o := range opts {
		o(&w.cfg)
	}
	w.log = w.cfg.log
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.cfg.cleanupGrace <= 0 {
		w.cfg.cleanupGrace = 2 * time.Second
	}
	reg, st := wsk.Register(&wsk.ClientNPI{Dispatch: &dispatch.ClientDispatch{Version: dispatch.MakeVersion(1, 0)}})
	if st != irp.Success {
		return nil, WSAData{}, &Error{Op: "WSAStartup", Code: WSAEPROVIDERFAILED}
	}
	npi, st := reg.CaptureProviderNPI(dispatch.InfiniteWait)
	if st != irp.Success {
		reg.Deregister()
		return nil, WSAData{}, &Error{Op: "WSAStartup", Code: WSAEPROVIDERFAILED}
	}
	w.reg, w.npi = reg, npi
	w.lin = linger.New(w.cfg.linger)
	w.sockets = newHandleTable[*entry](tagSocket, maxHandles)
	w.wpu = newHandleTable[*wpuEntry](tagProvider, maxHandles)
	w.threads = newHandleTable[*Thread](tagThread, maxHandles)
	w.up = w.upcalls()
	if code := w.startProviders(); code != 0 {
		w.teardown()
		return nil, WSAData{}, &Error{Op: "WSAStartup", Code: code}
	}
	return w, WSAData{Version: version, HighVersion: MakeWord(2, 2), Description: "gowsk winsock over wsk"}, nil
}

// startProviders runs WSPStartup of the base provider and of each layer, bottom up, and
// builds the catalog: one entry per protocol of the base, with the layers' ids on top.
func (w *WSA) startProviders() WSAError {
	const baseID = 1001
	t, code := startBase(w, w.up, baseID)
	if code != 0 {
		return code
	}
	w.tables = append(w.tables, t)
	chain := []uint32{baseID}
	for k, l := range w.cfg.layers {
		id := uint32(2001 + k)
		if l.Startup == nil {
			return WSAEPROVIDERFAILED
		}
		lt, code := l.Startup(w.up, id, t)
		if code != 0 || lt == nil {
			return WSAEPROVIDERFAILED
		}
		t = lt
		w.tables = append(w.tables, t)
		chain = append([]uint32{id}, chain...)
	}
	w.top = t
	for _, p := range baseProtocols {
		p.CatalogEntryID = chain[0]
		p.Chain = chain
		w.catalog = append(w.catalog, p)
	}
	return 0
}

// WSAEnumProtocols lists the catalog: TCP and UDP over IPv4 and IPv6, each with the
// protocol chain of the installed layers.
func (w *WSA) WSAEnumProtocols() ([]ProtocolInfo, error) {
	if !w.calls.Acquire() {
		return nil, &Error{Op: "WSAEnumProtocols", Code: irp.WSANOTINITIALISED}
	}
	defer w.calls.Release()
	out := make([]ProtocolInfo, len(w.catalog))
	copy(out, w.catalog)
	return out, nil
}

// WSACleanup ends the session, like process exit: new calls fail with
// WSANOTINITIALISED; every SOCKET still open is closed as closesocket would with its
// linger setting, except that nothing waits ({1,n} resets at once); the background
// closes get WithCleanupGrace to finish, then are reset; thread contexts still open are
// counted (Stats.UnclosedThreads) and logged, and closed without running their APCs;
// each provider's WSPCleanup runs, top first; wsk is deregistered. Afterwards nothing
// of the session runs. A second WSACleanup fails with WSANOTINITIALISED. It blocks until
// calls in progress have returned (their blocking waits are ended by the closes).
func (w *WSA) WSACleanup() error {
	if !w.cleaned.CompareAndSwap(false, true) {
		return &Error{Op: "WSACleanup", Code: irp.WSANOTINITIALISED}
	}
	w.calls.Begin()
	for _, h := range w.sockets.handles() {
		w.closeAtCleanup(Socket(h))
	}
	w.dropUnusedInfos()
	_ = w.calls.Wait(context.Background())
	for _, h := range w.sockets.handles() { // made by calls that were in flight (accept)
		w.closeAtCleanup(Socket(h))
	}
	w.dropUnusedInfos()
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.cleanupGrace)
	_ = w.lin.Shutdown(ctx)
	cancel()
	w.teardown()
	return nil
}

// teardown is the end of cleanup (and of a failed startup).
func (w *WSA) teardown() {
	for k := len(w.tables) - 1; k >= 0; k-- {
		if c := w.tables[k].Cleanup; c != nil {
			_ = c()
		}
	}
	for _, t := range w.threads.all() {
		w.ctr.unclosedThreads.Add(1)
		w.log.Warn("winsock: thread context not closed before WSACleanup", "thread", fmt.Sprintf("%#x", t.id))
		t.mu.Lock()
		t.closed, t.q = true, nil
		t.mu.Unlock()
		w.threads.remove(t.id)
	}
	if n := w.wpu.count(); n > 0 {
		w.ctr.leakedHandles.Add(uint64(n))
		w.log.Warn("winsock: provider handles not closed at WSACleanup", "count", n)
	}
	w.cleaned.Store(true)
	w.dead.Store(true)
	w.calls.Begin()
	w.reg.ReleaseProviderNPI()
	w.reg.Deregister()
}

// begin is the prologue of every API call: false after WSACleanup.
func (w *WSA) begin() bool { return w.calls.Acquire() }
func (w *WSA) end()        { w.calls.Release() }

// runUser runs application code (an APC, a completion routine) under recover.
func (w *WSA) runUser(what string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			w.ctr.panics.Add(1)
			w.log.Error("winsock: "+what+" panicked", "panic", r)
		}
	}()
	fn()
}

// OpenThread opens a thread context for the calling goroutine (the application's
// side of WPUOpenCurrentThread). Each success needs one CloseThread.
func (w *WSA) OpenThread() (*Thread, error) {
	t, code := w.up.OpenCurrentThread()
	return t, wsaErr("OpenThread", code)
}

// CloseThread closes t (WPUCloseThread): its queued APCs run now, on the caller.
func (w *WSA) CloseThread(t *Thread) error {
	if t == nil {
		return &Error{Op: "CloseThread", Code: WSAEFAULT}
	}
	return wsaErr("CloseThread", w.up.CloseThread(t.ID()))
}
