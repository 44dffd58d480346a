package wsk

import (
	"sync/atomic"

	"github.com/gowsk/gowsk/irp"
)

// Stats is a snapshot of a registration's counters (IRPViolations and
// UnbalancedRundownReleases count the whole process). Each field is read atomically on its
// own; under traffic the snapshot as a whole is not one instant. The field tags make it
// ready for encoding/json (expvar, a debug endpoint).
type Stats struct {
	Captures       int64  `json:"captures"`        // provider NPIs captured and not yet released
	SocketsOpen    int64  `json:"sockets_open"`    // sockets created and not yet closed
	SocketsCreated uint64 `json:"sockets_created"` // sockets ever created
	SocketsClosed  uint64 `json:"sockets_closed"`  // close IRPs completed
	IRPsPending    int64  `json:"irps_pending"`    // socket and provider-level IRPs pending now
	// IRPsCompleted counts queued requests (send, receive, connect, disconnect, accept,
	// datagram I/O) completed, at once or later. Calls that never queue (Socket, Bind,
	// address queries, ControlSocket, the close IRP) are not counted.
	IRPsCompleted     uint64 `json:"irps_completed"`
	IRPsCancelled     uint64 `json:"irps_cancelled"`     // IRPs completed with STATUS_CANCELLED
	ResetsSent        uint64 `json:"resets_sent"`        // abortive disconnects (RST) the provider caused
	CallbackPanics    uint64 `json:"callback_panics"`    // user callbacks that panicked (each aborted its socket)
	EnginePanics      uint64 `json:"engine_panics"`      // panics recovered by the engine loops
	LimitRejections   uint64 `json:"limit_rejections"`   // calls refused with STATUS_INSUFFICIENT_RESOURCES by Limits
	Misuse            uint64 `json:"misuse"`             // contract breaches reported instead of panicking
	DoubleDeregister  uint64 `json:"double_deregister"`  // Deregister calls after the first
	UnbalancedRelease uint64 `json:"unbalanced_release"` // ReleaseProviderNPI without a capture

	// IRPViolations and UnbalancedRundownReleases count misuse of the layers below, and are
	// process-wide (every IRP and every rundown guard in the process, of any registration
	// or of none). Outside verifier mode (GOWSK_VERIFIER=1 or irp.SetVerifier) each such
	// misuse is counted and the safe action taken: a second completion of an IRP is
	// ignored, a release without an acquire is clamped. The first of each kind in the
	// process is also logged to slog.Default at Warn level.
	IRPViolations             uint64 `json:"irp_violations"`              // irp.ViolationCount()
	UnbalancedRundownReleases uint64 `json:"unbalanced_rundown_releases"` // refcount.UnbalancedReleases()

	// DatagramsDropped counts datagrams a datagram socket received and threw away because
	// its backlog was full: no ReceiveFrom was queued and the receive-from event was off,
	// paused or refusing, and maxDatagramBacklog (256) datagrams were already waiting
	// (UDP semantics: a full receive buffer drops). Datagrams from a source other than a
	// fixed remote address (SIO_WSK_SET_REMOTE_ADDRESS) are filtered by design and not
	// counted here.
	DatagramsDropped uint64 `json:"datagrams_dropped"`
}

// counters are the live values behind Stats.
type counters struct {
	captures, socketsOpen, irpsPending                          atomic.Int64
	socketsCreated, socketsClosed, irpsCompleted, irpsCancelled atomic.Uint64
	resetsSent, callbackPanics, enginePanics, limitRejections   atomic.Uint64
	misuse, doubleDeregister, unbalancedRelease                 atomic.Uint64
	datagramsDropped                                            atomic.Uint64
}

// irpEnded counts the end of a counted pending IRP (socket or provider-level) whose final
// status is st, just before it is completed.
func (c *counters) irpEnded(st irp.Status) {
	c.irpsPending.Add(-1)
	c.irpsCompleted.Add(1)
	if st == irp.Cancelled {
		c.irpsCancelled.Add(1)
	}
}

func (c *counters) snapshot() Stats {
	return Stats{
		Captures:          c.captures.Load(),
		SocketsOpen:       c.socketsOpen.Load(),
		SocketsCreated:    c.socketsCreated.Load(),
		SocketsClosed:     c.socketsClosed.Load(),
		IRPsPending:       c.irpsPending.Load(),
		IRPsCompleted:     c.irpsCompleted.Load(),
		IRPsCancelled:     c.irpsCancelled.Load(),
		ResetsSent:        c.resetsSent.Load(),
		CallbackPanics:    c.callbackPanics.Load(),
		EnginePanics:      c.enginePanics.Load(),
		LimitRejections:   c.limitRejections.Load(),
		Misuse:            c.misuse.Load(),
		DoubleDeregister:  c.doubleDeregister.Load(),
		UnbalancedRelease: c.unbalancedRelease.Load(),
		DatagramsDropped:  c.datagramsDropped.Load(),
	}
}
