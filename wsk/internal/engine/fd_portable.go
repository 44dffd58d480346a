//go:build unix || windows

package engine

import "sync/atomic"

// Directions of a readiness note, of a Unix waiter and of a Windows watch bit.
const (
	dirRead = iota
	dirWrite
)

// portFD is one registration with the portable engine. What this file holds is the same
// on every OS: the table entry, the handler, the Dekker pair with Unregister and the
// one-note-per-direction flags. fdSys is where readiness comes from (fd_portable_unix.go:
// a duplicate in the runtime poller and two waiters; fd_windows.go: the loop's WSAPoll
// poller and the watched directions).
type portFD struct {
	facade FD // what Register hands out; facade.port is this registration
	loop   *portLoop
	fd     int // the owner's descriptor number (the table key)
	h      Handler

	// unregistered and inHandler are the epoll FD's pair (FD.inHandler).
	unregistered atomic.Bool
	inHandler    atomic.Bool
	// pending[dir] is set by whoever queued a note for dir and cleared by the loop just
	// before the handler runs: at most one note per direction is queued.
	pending [2]atomic.Bool

	fdSys
}

// register checks fd (checkFD), prepares the OS half (openSys), enters the registration in
// the table and attaches it to its loop's source of readiness (attach, under fdmu, so
// that Close either sees it in the table or refuses it), then lets it run (start).
func (e *portEngine) register(fd int, h Handler) (*FD, error) {
	if h == nil || !checkFD(fd) {
		return nil, ErrBadFD
	}
	if e.closed.Load() {
		return nil, ErrClosed
	}
	l := e.loops[int(e.next.Add(1)%uint32(len(e.loops)))]
	f := &portFD{loop: l, fd: fd, h: h}
	f.facade.port = f
	if err := f.openSys(); err != nil {
		return nil, err
	}

	e.fdmu.Lock()
	if e.fdclosed {
		e.fdmu.Unlock()
		f.detach()
		return nil, ErrClosed
	}
	var retired *portFD
	if old := e.fds[fd]; old != nil {
		if err := old.sameSocket(fd); err != nil {
			e.fdmu.Unlock()
			f.detach()
			return nil, err
		}
		// The owner closed the old descriptor without unregistering it and the number
		// was reused: the old registration is dead.
		old.unregistered.Store(true)
		old.loop.st.registered.Add(-1)
		retired = old
	}
	e.fds[fd] = f
	l.st.registered.Add(1)
	f.attach()
	e.fdmu.Unlock()
	if retired != nil {
		retired.detach()
	}
	f.start()
	return &f.facade, nil
}

// unregister is FD.Unregister: mark, drop from the table, then detach from the source of
// readiness (outside fdmu: on Unix that waits for the waiters to leave the poller).
func (f *portFD) unregister() error {
	e := f.loop.e
	e.fdmu.Lock()
	if f.unregistered.Load() {
		e.fdmu.Unlock()
		return ErrNotRegistered
	}
	f.unregistered.Store(true)
	if e.fds[f.fd] == f {
		delete(e.fds, f.fd)
	}
	f.loop.st.registered.Add(-1)
	e.fdmu.Unlock()
	f.detach()
	return nil
}

// unregisterFunc is FD.UnregisterFunc and FD.UnregisterCloseFunc (the portable engine has
// no epoll set to leave, so they are the same): unregister, then fn once no handler of
// the FD can be running.
func (f *portFD) unregisterFunc(fn func()) error {
	err := f.unregister()
	if fn != nil && f.loop.runAfterHandler(&f.inHandler, fn) {
		f.loop.wake()
	}
	return err
}
