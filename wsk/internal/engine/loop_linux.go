//go:build linux

package engine

import (
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxEvents is the size of the reused epoll_wait batch.
const maxEvents = 256

// Loop is one reactor: a goroutine, an epoll instance, an eventfd used to
// wake it, a bounded post queue and a timer heap. Post and AfterFunc are
// safe from any goroutine; everything they schedule runs on the loop
// goroutine.
type Loop struct {
	e     *Engine
	index int
	epfd  int
	evfd  int
	// epf is epfd as an *os.File registered with Go's network poller (an
	// epoll descriptor is itself pollable: readable while events are
	// ready). The loop blocks by parking on it (epconn.Read) rather than in
	// a blocking epoll_wait: a goroutine parked in the netpoller holds no
	// P and no thread, whereas one blocked in a system call keeps sysmon
	// polling every 20 µs to hand its P off, a cost paid on every sleep.
	epf    *os.File
	epconn syscall.RawConn
	// deadlineSet records that epf carries a read deadline (a timer was
	// due), so that a later sleep without timers clears it.
	deadlineSet bool
	// pollFn is the function wait hands to epconn.Read, made once (a
	// closure built per wait would be a heap allocation per sleep); it
	// leaves the count of ready events in polled.
	pollFn func(uintptr) bool
	polled int

	// sleeping is true from just before the loop re-checks its queue,
	// timers and stop flag until its wait returns. Wakers publish their
	// work first, then read sleeping; the loop stores sleeping first, then
	// reads the work (both sequentially consistent), so at least one side
	// sees the other: either the loop finds the work and does not block,
	// or the waker sees sleeping and writes the eventfd. While the loop is
	// awake (running callbacks) no syscall is spent on wakeups.
	sleeping atomic.Bool
	// wakePending collapses concurrent wakeups into one eventfd write:
	// a waker writes only if it flips false→true; the loop resets it to
	// false after consuming the eventfd, so a later waker writes again.
	wakePending atomic.Bool
	// wakeMu keeps shutdown from closing the eventfd while a waker is
	// between its checks and its write: the number could otherwise be
	// reused and the write land in someone else's descriptor. Only the
	// slow path (loop asleep) takes it.
	wakeMu     sync.RWMutex
	evfdClosed bool

	loopCore // post queue, timers, counters, running user functions

	// Descriptor table indexed by fd, guarded by fdmu. Events look up the
	// current registration and compare its seq with the event's tag.
	fdmu     sync.Mutex
	fds      []*FD
	fdclosed bool

	events []unix.EpollEvent // reused epoll_wait buffer (loop-owned)

	port *portLoop // non-nil: a loop of the portable engine; the rest is unused
}

func newLoop(e *Engine, index, maxPosted int) (*Loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	// The eventfd carries tag seq 0, which no registration ever gets.
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(evfd), Pad: 0}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		unix.Close(evfd)
		unix.Close(epfd)
		return nil, err
	}
	// Nonblocking before os.NewFile, which then registers it with the
	// netpoller; from here on epf owns (and closes) epfd.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(evfd)
		unix.Close(epfd)
		return nil, err
	}
	epf := os.NewFile(uintptr(epfd), "gowsk-epoll")
	epconn, err := epf.SyscallConn()
	if err != nil {
		unix.Close(evfd)
		epf.Close()
		return nil, err
	}
	l := &Loop{
		e:        e,
		index:    index,
		epfd:     epfd,
		evfd:     evfd,
		epf:      epf,
		epconn:   epconn,
		loopCore: newLoopCore(maxPosted, e.onPanic),
		events:   make([]unix.EpollEvent, maxEvents),
	}
	l.pollFn = func(uintptr) bool {
		l.polled = l.pollNow()
		return l.polled > 0
	}
	return l, nil
}

func (l *Loop) closeFDs() {
	unix.Close(l.evfd)
	l.epf.Close()
}

// Index is the loop's position in Engine.Loops (also its pprof label).
func (l *Loop) Index() int {
	if l.port != nil {
		return l.port.index
	}
	return l.index
}

// Post queues fn to run on the loop goroutine, in FIFO order with other
// posts to the same loop. It never blocks: it returns false if the queue
// already holds MaxPosted functions or the loop has stopped. Posts
// accepted before Close still run before the loop exits.
func (l *Loop) Post(fn func()) bool {
	if l.port != nil {
		return l.port.post(fn)
	}
	if fn == nil {
		return false
	}
	if !l.posts.post(fn) {
		return false
	}
	l.wake()
	return true
}

// wake makes a loop parked (or about to park) in wait return.
// Callers publish their work before calling it; see sleeping.
func (l *Loop) wake() {
	if l.sleeping.Load() && l.wakePending.CompareAndSwap(false, true) {
		l.wakeMu.RLock()
		if !l.evfdClosed {
			var one = [8]byte{1}
			// EAGAIN means the counter is saturated, which already
			// wakes the loop.
			_, _ = unix.Write(l.evfd, one[:])
		}
		l.wakeMu.RUnlock()
	}
}

// requestStop makes the loop exit at its next turn (Engine.Close).
func (l *Loop) requestStop() {
	l.stop.Store(true)
	l.wake()
}

func (l *Loop) run() {
	l.goid.Store(curGoid())
	for !l.stop.Load() {
		n := l.wait(l.prepareSleep())
		l.sleeping.Store(false)
		for i := 0; i < n; i++ {
			l.dispatch(&l.events[i])
		}
		l.runPosted()
		l.runTimers()
	}
	l.shutdown()
}

// pollNow is epoll_wait with a zero timeout as a raw system call: it never
// blocks, so it need not tell the scheduler (entersyscall/exitsyscall). It
// returns the number of ready events in l.events.
func (l *Loop) pollNow() int {
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(l.epfd),
		uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), 0, 0, 0)
	if e != 0 {
		if e == unix.EINTR {
			return 0
		}
		// epoll_wait fails only on a broken epfd or buffer; both are bugs in
		// this package.
		panic("engine: epoll_wait: " + e.Error())
	}
	return int(r)
}

// wait returns the events ready within timeoutMs (-1: until one is, 0: now)
// in l.events. It parks the goroutine in the netpoller until epfd is
// readable (see epf) instead of blocking in epoll_wait; a timeout is a read
// deadline on epf. A wake (eventfd write) makes epfd readable like any other
// event, so the sleeping protocol is unchanged.
func (l *Loop) wait(timeoutMs int) int {
	if timeoutMs == 0 {
		return l.pollNow()
	}
	if timeoutMs > 0 {
		l.deadlineSet = true
		_ = l.epf.SetReadDeadline(time.Now().Add(time.Duration(timeoutMs) * time.Millisecond))
	} else if l.deadlineSet {
		l.deadlineSet = false
		_ = l.epf.SetReadDeadline(time.Time{})
	}
	l.polled = 0
	// Read calls the function, and while it reports false parks until epfd
	// is readable again (edge-triggered: pollNow drained the ready list, so
	// any later event is a new edge). It fails only on the deadline (the
	// timer is due: polled stays 0) or a closed epf, which only shutdown does,
	// after this loop stopped.
	_ = l.epconn.Read(l.pollFn)
	return l.polled
}

// prepareSleep announces that the loop is about to block, then looks for
// work published before the announcement (see sleeping) and returns the
// epoll_wait timeout: 0 if there is work, else timeoutMs.
func (l *Loop) prepareSleep() int {
	l.sleeping.Store(true)
	if l.stop.Load() {
		return 0
	}
	l.posts.mu.Lock()
	pending := l.posts.pendingLocked()
	l.posts.mu.Unlock()
	if pending {
		return 0
	}
	return l.timeoutMs()
}

// timeoutMs returns the epoll_wait timeout: until the earliest timer, or
// forever (-1).
func (l *Loop) timeoutMs() int {
	when, ok := l.timers.next()
	if !ok {
		return -1
	}
	d := time.Until(when)
	if d <= 0 {
		return 0
	}
	// Round up so the loop does not wake a hair early and spin.
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms > 1<<30 {
		ms = 1 << 30
	}
	return int(ms)
}

// dispatch delivers one epoll event. The event's data is the tag
// (fd, seq) written at registration; an event whose seq does not match the
// descriptor's current registration belongs to a previous owner of the fd
// number (golang/go#59545) and is dropped.
func (l *Loop) dispatch(ev *unix.EpollEvent) {
	fd, seq := int(ev.Fd), uint32(ev.Pad)
	if seq == 0 && fd == l.evfd {
		var buf [8]byte
		_, _ = unix.Read(l.evfd, buf[:])
		l.wakePending.Store(false)
		l.st.wakeups.Add(1)
		return
	}
	l.fdmu.Lock()
	var f *FD
	if fd >= 0 && fd < len(l.fds) {
		f = l.fds[fd]
	}
	l.fdmu.Unlock()
	if f == nil || f.seq != seq {
		l.st.stale.Add(1)
		return
	}
	const readable = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLHUP | unix.EPOLLERR
	const writable = unix.EPOLLOUT | unix.EPOLLERR | unix.EPOLLHUP
	// The unregistered check precedes each call: Unregister sets it before
	// returning, so no call starts after Unregister returns, even one from
	// this same event (Readable may unregister; Writable must then not run).
	// inHandler is set before each unregistered check and cleared after the
	// call: UnregisterFunc then either sees the call in progress (and leaves
	// its fn to this loop) or this check sees the FD unregistered (FD.inHandler).
	f.inHandler.Store(true)
	defer f.inHandler.Store(false)
	if ev.Events&readable != 0 && !f.unregistered.Load() {
		l.st.events.Add(1)
		if hh, ok := f.h.(HangupHandler); ok && ev.Events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
			l.callHangup(hh)
		} else {
			l.callHandler(f.h, true)
		}
	}
	if ev.Events&writable != 0 && !f.unregistered.Load() {
		l.st.events.Add(1)
		l.callHandler(f.h, false)
	}
}

func (l *Loop) callHangup(h HangupHandler) {
	defer l.recoverUser()
	h.ReadableHangup()
}

func (l *Loop) callHandler(h Handler, readable bool) {
	defer l.recoverUser()
	if readable {
		h.Readable()
	} else {
		h.Writable()
	}
}

// shutdown runs on the loop goroutine after stop: it deregisters every
// descriptor left (without closing it), runs posted functions still queued,
// drops timers and closes the epoll and event fds.
func (l *Loop) shutdown() {
	l.fdmu.Lock()
	l.fdclosed = true
	for i, f := range l.fds {
		if f != nil {
			f.unregistered.Store(true)
			_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, i, nil)
			l.fds[i] = nil
			l.st.registered.Add(-1)
		}
	}
	l.fdmu.Unlock()

	l.timers.close()

	// Close the queue first so Post fails from now on and UnregisterFunc
	// runs inline (safe: no handler can run any more), then run what was
	// accepted before, exactly once. A drained function that posts again
	// gets false, so this cannot loop.
	l.posts.mu.Lock()
	l.posts.closed = true
	l.posts.mu.Unlock()
	l.runPosted()
	l.wakeMu.Lock()
	l.evfdClosed = true
	l.closeFDs()
	l.wakeMu.Unlock()
}
