package lsp

import (
	"log/slog"
	"sync"
	"time"

	"github.com/gowsk/gowsk/wsk/winsock"
)

// worker is the layer's own goroutine: it issues the overlapped calls to the layer
// below with its own thread context, so the lower completion routines (the layer's)
// run here, at its alertable wait, never on the application's threads.
type worker struct {
	l   *Layer
	t   *winsock.Thread
	tid winsock.ThreadID
	ev  *winsock.Event // set when there is work or a stop

	mu       sync.Mutex
	reqs     []func()
	stopping bool
	done     chan struct{}
}

// startWorker starts the goroutine; it opens its thread context itself
// (WPUOpenCurrentThread names the calling thread).
func startWorker(l *Layer) (*worker, winsock.WSAError) {
	wk := &worker{l: l, ev: winsock.WSACreateEvent(), done: make(chan struct{})}
	opened := make(chan winsock.WSAError, 1)
	go wk.loop(opened)
	if code := <-opened; code != 0 {
		<-wk.done
		return nil, code
	}
	return wk, 0
}

func (wk *worker) loop(opened chan<- winsock.WSAError) {
	defer close(wk.done)
	t, code := wk.l.up.OpenCurrentThread()
	opened <- code
	if code != 0 {
		return
	}
	wk.t, wk.tid = t, t.ID()
	// The stop waits for the operations still outstanding below, at most drainLimit:
	// the switch closed every socket before WSPCleanup, so their completions are queued.
	var stopAt time.Time
	for {
		wk.mu.Lock()
		reqs := wk.reqs
		wk.reqs = nil
		stopping := wk.stopping
		if len(reqs) == 0 {
			winsock.WSAResetEvent(wk.ev)
		}
		wk.mu.Unlock()
		for _, r := range reqs {
			r()
		}
		if stopping {
			if stopAt.IsZero() {
				stopAt = time.Now()
			}
			if wk.l.outstanding.Load() == 0 || time.Since(stopAt) > drainLimit {
				break
			}
		}
		t.WaitForSingleObjectEx(wk.ev, 50*time.Millisecond, true)
	}
	if n := wk.l.outstanding.Load(); n > 0 {
		slog.Default().Warn("lsp: worker stopped with operations outstanding", "count", n)
	}
	_ = wk.l.up.CloseThread(wk.tid) // runs what is still queued: the last alertable point
}

const drainLimit = 5 * time.Second

// run hands fn to the worker.
func (wk *worker) run(fn func()) bool {
	wk.mu.Lock()
	if wk.stopping {
		wk.mu.Unlock()
		return false
	}
	wk.reqs = append(wk.reqs, fn)
	wk.mu.Unlock()
	winsock.WSASetEvent(wk.ev)
	return true
}

// stop ends the worker once it has drained, and waits for it.
func (wk *worker) stop() {
	wk.mu.Lock()
	wk.stopping = true
	wk.mu.Unlock()
	winsock.WSASetEvent(wk.ev)
	<-wk.done
}

// Pause stops the worker until resume is called (a test tool: completions from the
// layer below then queue up, so that a close finds operations outstanding). The worker
// must not be paused at WSACleanup.
func (l *Layer) Pause() (resume func()) {
	gate := make(chan struct{})
	paused := make(chan struct{})
	if !l.wk.run(func() { close(paused); <-gate }) {
		return func() {}
	}
	<-paused
	return func() { close(gate) }
}
