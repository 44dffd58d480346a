package wsk

import (
	"strconv"
	"sync"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/internal/observe"
)

// Observer watches a registration's sockets from inside the provider; WithObserver installs
// one. Package wsk/wsktrace is the observer that shows IRP lifecycles in `go tool trace`
// and as log/slog records.
//
// It is first a [dispatch.Filter]: the registration stacks it as a layer over each of the
// provider's socket tables, so Call sees every socket call on its way in (after the guard
// admitted it; a call refused because the socket is closing never reaches a layer), and the
// completion routine Call returns sees every completion. The other methods report what no
// layer can see from outside the provider:
//
//   - Cancel: a Cancel of i (IoCancelIrp) reached the provider's cancel routine, which
//     still owns i: it completes i right after.
//   - CloseStep: the close protocol of ws (socket_close.go) reached step. For a step that
//     is a span ([CloseStep.Span]) the provider calls the returned end, when it is not nil,
//     on the same goroutine once the step is done; for the others end is ignored.
//
// That the provider kept an IRP pending (IoMarkIrpPending inside the provider) is known only
// under the socket's lock, so it is reported only to observers of this module (package
// wsk/wsktrace); no application code ever runs under a provider lock.
//
// Concurrency: every method may be called on any goroutine, concurrently, with no provider
// lock held. Like any layer an Observer is part of the provider's stack: its methods run
// without recover and must not panic, and must not block (CloseStep may run on an engine
// loop).
type Observer interface {
	dispatch.Filter
	Cancel(ws *dispatch.Socket, i *irp.IRP)
	CloseStep(ws *dispatch.Socket, step CloseStep) (end func())
}

// WithObserver installs o on the registration: one more IRP stack location per socket
// (Socket.StackSize counts it) and the hooks listed at [Observer]. Without it (the
// default) no layer is stacked and each hook costs one nil test. A nil o is ignored.
func WithObserver(o Observer) Option {
	return func(c *config) {
		if o != nil {
			c.obs = o
		}
	}
}

// CloseStep names one step of the close protocol (close.go) as an Observer sees it.
// Steps 1 to 3 happen in dispatch's guard before the provider hears of the close, so they
// are reported once, done, as CloseDrained; step 6 is one of CloseReset and CloseNoReset.
type CloseStep uint8

const (
	CloseDrained    CloseStep = iota + 1 // 1–3 done: no call of the socket runs, new ones refused
	CloseCallbacks                       // 4: no new callbacks; waiting for the running ones
	CloseCancel                          // 5: cancelling every pending IRP (a span)
	CloseReset                           // 6: the connection is reset (SO_LINGER {1, 0})
	CloseNoReset                         // 6: nothing to reset (disconnected both ways, finished)
	CloseDescriptor                      // 7: leaving the engine, closing the descriptor (a span)
	CloseComplete                        // 8: completing the close IRP, last (a span)
)

var closeStepNames = [...]string{
	CloseDrained:    "1-3: calls drained, new calls refused",
	CloseCallbacks:  "4: wait for running callbacks",
	CloseCancel:     "5: cancel every pending IRP",
	CloseReset:      "6: reset the connection",
	CloseNoReset:    "6: no reset needed",
	CloseDescriptor: "7: close the descriptor",
	CloseComplete:   "8: complete the close IRP",
}

// String is the step's number and what it does, e.g. "5: cancel every pending IRP".
func (s CloseStep) String() string {
	if s >= CloseDrained && int(s) < len(closeStepNames) {
		return closeStepNames[s]
	}
	return "CloseStep(" + strconv.Itoa(int(s)) + ")"
}

// Span reports whether the step lasts (the provider ends it by calling the end that
// Observer.CloseStep returned) rather than marking a moment.
func (s CloseStep) Span() bool {
	return s == CloseCancel || s == CloseDescriptor || s == CloseComplete
}

// observing is what a registration keeps of WithObserver: the observer, and the
// provider's socket tables with the observer layered on each, each built when the first
// socket of its category is made (observe_linux.go). A registration without an observer
// has none (nil).
type observing struct {
	o      Observer
	locked observe.Locked // o's sealed under-lock hook, when it has one (wsktrace)
	mu     sync.Mutex
	tables map[any]any // a provider table → the same table under the observer's layer
}

func newObserving(o Observer) *observing {
	if o == nil {
		return nil
	}
	locked, _ := o.(observe.Locked)
	return &observing{o: o, locked: locked, tables: make(map[any]any)}
}
