package winsock

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/gowsk/gowsk/irp"
)

// Wait results, with the Windows values.
const (
	WaitObject0      uint32 = 0          // WAIT_OBJECT_0 / WSA_WAIT_EVENT_0
	WaitIOCompletion uint32 = 0xC0       // WAIT_IO_COMPLETION / WSA_WAIT_IO_COMPLETION: APCs ran
	WaitTimeout      uint32 = 258        // WAIT_TIMEOUT / WSA_WAIT_TIMEOUT
	WaitFailed       uint32 = 0xFFFFFFFF // WAIT_FAILED / WSA_WAIT_FAILED
	Infinite                = time.Duration(-1)
)

// maxAPCs bounds one thread's APC queue; WPUQueueApc beyond it fails with WSAENOBUFS.
const maxAPCs = 1 << 16

// APCFunc is a user-mode APC routine (PAPCFUNC): it runs on its thread at an
// alertable point, with the context it was queued with.
type APCFunc func(ctx uintptr, data any)

type apc struct {
	fn   APCFunc
	ctx  uintptr
	data any
}

// ThreadID is WSATHREADID: it names a Thread for WPUQueueApc. Handle is the
// thread-table handle; Reserved is unused.
type ThreadID struct {
	Handle   uint64
	Reserved uintptr
}

// Thread is a thread context: the model's stand-in for a Windows thread, since a
// goroutine has no identity. It is owned by the goroutine that opened it (with
// [WSA.OpenThread], or a provider's WPUOpenCurrentThread); that goroutine makes its
// Winsock calls through it and runs its APCs at its alertable points (SleepEx,
// WaitForSingleObjectEx, WSAWaitForMultipleEvents with alertable set, and a lingering
// closesocket). Completion routines of the overlapped calls it issues are queued to it
// as APCs. A Thread must not be used by two goroutines at once: a second concurrent
// call fails with WSAEINPROGRESS (the Winsock 1.1 "a blocking call is in progress"),
// an alertable wait with WAIT_FAILED.
type Thread struct {
	w     *WSA
	id    uint64
	busy  atomic.Int32 // calls of the owner running (more than one only inside an APC)
	inAPC atomic.Int32 // APCs of t running now (on its owner)

	mu     sync.Mutex
	q      []apc
	closed bool
	wake   chan struct{} // one token: an APC was queued
}

// ID returns the WSATHREADID of t.
func (t *Thread) ID() ThreadID { return ThreadID{Handle: t.id} }

// enter marks t busy for one call; false when another call of t is running, except
// inside one of t's APCs: a completion routine may issue calls (the usual pattern), and
// only t's owner runs its APCs.
func (t *Thread) enter() bool {
	if t.busy.CompareAndSwap(0, 1) {
		return true
	}
	if t.inAPC.Load() > 0 {
		t.busy.Add(1)
		return true
	}
	return false
}

func (t *Thread) leave() { t.busy.Add(-1) }

// queue appends an APC; the owner runs it at its next alertable point.
func (t *Thread) queue(a apc) WSAError {
	t.mu.Lock()
	switch {
	case t.closed:
		t.mu.Unlock()
		return WSAEFAULT
	case len(t.q) >= maxAPCs:
		t.mu.Unlock()
		return irp.WSAENOBUFS
	}
	t.q = append(t.q, a)
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
	return 0
}

// runAPCs runs every APC queued now (not those queued while they run: Windows
// drains the queue, but a bounded pass keeps one wait bounded too) and reports
// whether any ran. Each runs under recover: a panicking APC is counted and logged.
func (t *Thread) runAPCs() bool {
	t.mu.Lock()
	q := t.q
	t.q = nil
	t.mu.Unlock()
	t.inAPC.Add(1)
	for _, a := range q {
		t.w.runUser("APC", func() { a.fn(a.ctx, a.data) })
	}
	t.inAPC.Add(-1)
	t.w.ctr.apcsRun.Add(uint64(len(q)))
	return len(q) > 0
}

// SleepEx is SleepEx: it waits d (Infinite: forever); with alertable set, queued APCs
// run and it returns WaitIOCompletion as soon as one has run, else 0. Call it only on
// t's goroutine.
func (t *Thread) SleepEx(d time.Duration, alertable bool) uint32 {
	r := t.wait(nil, false, d, alertable)
	if r == WaitTimeout {
		return 0
	}
	return r
}

// WaitForSingleObjectEx waits for ev to be set, for d (Infinite: forever), running
// APCs when alertable: WaitObject0, WaitTimeout, WaitIOCompletion, or WaitFailed (nil
// or closed event, t busy or closed). Call it only on t's goroutine.
func (t *Thread) WaitForSingleObjectEx(ev *Event, d time.Duration, alertable bool) uint32 {
	if ev == nil {
		return WaitFailed
	}
	return t.WSAWaitForMultipleEvents([]*Event{ev}, false, d, alertable)
}

// WSAWaitForMultipleEvents waits for one (all=false: the result is WaitObject0 plus
// the index of the first set) or all of evs, for d, running APCs when alertable.
// At most 64 events (WSA_MAXIMUM_WAIT_EVENTS); more, none, or a nil or closed one is
// WaitFailed. Call it only on t's goroutine.
func (t *Thread) WSAWaitForMultipleEvents(evs []*Event, all bool, d time.Duration, alertable bool) uint32 {
	if len(evs) == 0 || len(evs) > 64 {
		return WaitFailed
	}
	for _, e := range evs {
		if e == nil || e.isClosed() {
			return WaitFailed
		}
	}
	return t.wait(evs, all, d, alertable)
}

// wait is every alertable wait: APCs first (when alertable), then the events, the
// APC wake-up and the timer, in a loop bounded by d.
func (t *Thread) wait(evs []*Event, all bool, d time.Duration, alertable bool) uint32 {
	if !t.enter() {
		return WaitFailed
	}
	defer t.leave()
	var deadline <-chan time.Time
	if d >= 0 {
		tm := time.NewTimer(d)
		defer tm.Stop()
		deadline = tm.C
	}
	changed := make(chan struct{}, 1)
	for _, e := range evs {
		e.addWaiter(changed)
		defer e.removeWaiter(changed)
	}
	var wake chan struct{}
	if alertable {
		wake = t.wake
	}
	for {
		if alertable && t.runAPCs() {
			return WaitIOCompletion
		}
		if r, ok := signalled(evs, all); ok {
			return r
		}
		select {
		case <-wake:
		case <-changed:
		case <-deadline:
			if r, ok := signalled(evs, all); ok {
				return r
			}
			return WaitTimeout
		}
	}
}

// lingerWait is the wait hook of a lingering closesocket: alertable, on t.
func (t *Thread) lingerWait(done <-chan struct{}, d time.Duration) {
	tm := time.NewTimer(d)
	defer tm.Stop()
	for {
		if t.runAPCs() {
			return
		}
		select {
		case <-done:
			return
		case <-tm.C:
			return
		case <-t.wake:
		}
	}
}

// close ends the context: the APCs still queued run now, on the closing goroutine
// (the owner: closing is its last alertable point), so every queued completion
// routine runs exactly once; later WPUQueueApc calls fail with WSAEFAULT.
func (t *Thread) close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.runAPCs()
}

// Session returns the session t belongs to.
func (t *Thread) Session() *WSA { return t.w }

func (t *Thread) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}
