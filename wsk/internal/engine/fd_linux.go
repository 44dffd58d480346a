//go:build linux

package engine

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// FD is one registration of a descriptor with a loop. The descriptor
// stays owned by the caller: the engine never closes it.
type FD struct {
	loop *Loop
	h    Handler
	port *portFD // non-nil: a registration with the portable engine; the rest is unused
	// fd is 32 bits, as the kernel's descriptor numbers are, so that the record stays in
	// its 48-byte size class (wsk's per-connection budget).
	fd           int32
	seq          uint32      // tag in the epoll data; events with another tag are stale
	unregistered atomic.Bool // set once, before Unregister returns; checked before every handler call

	// inHandler is set by the loop around each handler call of this FD (set before the
	// unregistered check, cleared after the call). With unregistered it is a Dekker pair
	// (both sequentially consistent): UnregisterFunc sets unregistered, then reads
	// inHandler; the loop sets inHandler, then reads unregistered. So either the loop
	// sees unregistered and calls nothing, or UnregisterFunc sees the call in progress
	// and hands fn to the loop. Never both missed.
	inHandler atomic.Bool
}

// Sysfd returns the registered descriptor number.
func (f *FD) Sysfd() int {
	if f.port != nil {
		return f.port.fd
	}
	return int(f.fd)
}

// Loop returns the loop that calls this descriptor's handler.
func (f *FD) Loop() *Loop {
	if f.port != nil {
		return &f.port.loop.facade
	}
	return f.loop
}

func (l *Loop) register(fd int, h Handler) (*FD, error) {
	f := &FD{loop: l, fd: int32(fd), seq: l.e.nextSeq(), h: h}
	ev := unix.EpollEvent{
		Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET,
		Fd:     int32(fd),
		Pad:    int32(f.seq),
	}
	l.fdmu.Lock()
	defer l.fdmu.Unlock()
	if l.fdclosed {
		return nil, ErrClosed
	}
	// The table entry goes in before EPOLL_CTL_ADD so the first event
	// finds it. It grows by doubling: append's growth of large slices
	// (1.25x) would leave about four times the table's size as garbage
	// while thousands of connections arrive.
	if fd >= len(l.fds) {
		n := max(fd+1, 2*len(l.fds), 64)
		t := make([]*FD, n)
		copy(t, l.fds)
		l.fds = t
	}
	old := l.fds[fd]
	l.fds[fd] = f
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		// EEXIST: the number is still registered here (a double
		// Register); keep the old entry.
		l.fds[fd] = old
		return nil, err
	}
	if old != nil {
		// The owner closed the old descriptor without unregistering it;
		// the kernel dropped it from the set (ADD just succeeded), so the
		// old registration is dead. Retire it so its handler is never
		// called with the new descriptor's events.
		old.unregistered.Store(true)
		l.st.registered.Add(-1)
	}
	l.st.registered.Add(1)
	return f, nil
}

// Unregister removes the descriptor from epoll (EPOLL_CTL_DEL) without
// closing it.
//
// Guarantee: once Unregister returns, no NEW Readable or Writable call
// for this FD starts. If Unregister is called from the loop goroutine
// (typically from inside this FD's own handler), nothing of this FD is
// running afterwards except the caller itself. If it is called from
// another goroutine while a handler for this FD is running, Unregister
// does not wait for that handler: it may still be running when
// Unregister returns. To close the descriptor safely from another
// goroutine use UnregisterFunc, whose fn runs on the loop, so no
// handler of this FD can be running then.
//
// A second Unregister, or one after Engine.Close has dropped the
// registration, returns ErrNotRegistered.
func (f *FD) Unregister() error {
	if f.port != nil {
		return f.port.unregister()
	}
	return f.unregister(true)
}

// unregister is Unregister; del false skips EPOLL_CTL_DEL (UnregisterCloseFunc).
func (f *FD) unregister(del bool) error {
	l := f.loop
	l.fdmu.Lock()
	defer l.fdmu.Unlock()
	if f.unregistered.Load() {
		return ErrNotRegistered
	}
	f.unregistered.Store(true)
	if int(f.fd) < len(l.fds) && l.fds[f.fd] == f {
		l.fds[f.fd] = nil
	}
	l.st.registered.Add(-1)
	if !del {
		return nil
	}
	// fdmu makes this DEL and a concurrent Register of the same number on
	// this loop ordered. ENOENT/EBADF mean the owner closed the fd
	// early; the kernel already dropped it from the set, which is the
	// state we want.
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, int(f.fd), nil); err != nil &&
		err != unix.ENOENT && err != unix.EBADF {
		return err
	}
	return nil
}

// UnregisterFunc unregisters like Unregister and then runs fn once no
// handler call for this FD can be running: at once on the caller's
// goroutine when no handler of this FD is in progress (the common case:
// no hand-off to the loop, no wake-up), else on the loop goroutine after
// the handler call in progress has returned (also when the caller is
// that very handler). fn typically closes the descriptor: the number
// cannot be reused while a handler still uses it. Functions posted with
// Loop.Post are not handler calls: code they run must not need the
// descriptor once its owner began to close it. fn is never refused (it
// does not count against MaxPosted); if the loop has already stopped, fn
// runs synchronously in the caller, which is safe because a stopped loop
// calls no handler. fn may be nil. The error is Unregister's; fn runs
// even when the FD was already unregistered.
func (f *FD) UnregisterFunc(fn func()) error {
	if f.port != nil {
		return f.port.unregisterFunc(fn)
	}
	return f.unregisterFunc(fn, true)
}

// UnregisterCloseFunc is UnregisterFunc for an owner whose fn closes the
// descriptor, and which never duplicated it: the EPOLL_CTL_DEL is skipped
// (one syscall less), since closing the last reference to the open file
// removes it from the epoll set. Until fn has run, events of the
// descriptor may still be reported; unregistered, they are dropped as
// stale (no handler is called). fn must not be nil.
func (f *FD) UnregisterCloseFunc(fn func()) error {
	if f.port != nil {
		return f.port.unregisterFunc(fn)
	}
	return f.unregisterFunc(fn, false)
}

func (f *FD) unregisterFunc(fn func(), del bool) error {
	err := f.unregister(del)
	if fn != nil && f.loop.runAfterHandler(&f.inHandler, fn) {
		f.loop.wake()
	}
	return err
}

// RearmRead and RearmWrite are the level-triggered engine's half of the edge contract
// (see the package doc, "Edges on a level-triggered poller"): both engines here take
// their edges from the kernel, so they ignore the calls. Safe from any goroutine.
func (f *FD) RearmRead() {}

// RearmWrite: see RearmRead.
func (f *FD) RearmWrite() {}
