//go:build unix

package engine

import (
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Directions of a readiness note and of a waiter.
const (
	dirRead = iota
	dirWrite
)

// portFD is one registration with the portable engine.
//
// Ownership: the owner keeps its descriptor (fd) and closes it itself. The engine works
// on a duplicate (dup) wrapped in file, which it alone closes, through file.Close, at
// Unregister or Close: a duplicate refers to the same open socket, so the poller reports
// the socket's readiness, and no number is closed twice. The owner's close then drops the
// last reference: SO_LINGER {1, 0} followed by close still resets the connection, because
// Unregister (and UnregisterFunc before fn runs) closes the duplicate first.
type portFD struct {
	facade FD // what Register hands out; facade.port is this registration
	loop   *portLoop
	fd     int // the owner's descriptor number (the table key)
	h      Handler
	file   *os.File
	rc     syscall.RawConn

	// unregistered and inHandler are the epoll FD's pair (FD.inHandler).
	unregistered atomic.Bool
	inHandler    atomic.Bool
	// pending[dir] is set by the waiter that queued a note for dir and cleared by the
	// loop just before the handler runs: at most one note per direction is queued.
	pending [2]atomic.Bool
	closed  atomic.Bool // file.Close was called (once)
}

// register duplicates fd, hands the duplicate to the runtime poller and starts one waiter
// per direction. Each waiter's first pass reports the direction at once, as epoll reports
// a descriptor already ready when it is added: the poller forgets readiness from before
// the wait, so the handler is asked to look.
func (e *portEngine) register(fd int, h Handler) (*FD, error) {
	if fd < 0 || h == nil {
		return nil, ErrBadFD
	}
	if e.closed.Load() {
		return nil, ErrClosed
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	file := os.NewFile(uintptr(dup), "gowsk")
	// A descriptor the poller cannot watch (a regular file, a blocking descriptor) has no
	// deadlines: refuse it rather than start waiters that would fail at once.
	if err := file.SetReadDeadline(time.Time{}); err != nil {
		_ = file.Close()
		return nil, ErrBadFD
	}
	rc, err := file.SyscallConn()
	if err != nil {
		_ = file.Close()
		return nil, err
	}
	l := e.loops[int(e.next.Add(1)%uint32(len(e.loops)))]
	f := &portFD{loop: l, fd: fd, h: h, file: file, rc: rc}
	f.facade.port = f

	e.fdmu.Lock()
	if e.fdclosed {
		e.fdmu.Unlock()
		_ = file.Close()
		return nil, ErrClosed
	}
	var retired *portFD
	if old := e.fds[fd]; old != nil {
		if sameFile(old.file, fd) {
			// A double Register of one descriptor (epoll's EEXIST).
			e.fdmu.Unlock()
			_ = file.Close()
			return nil, unix.EEXIST
		}
		// The owner closed the old descriptor without unregistering it and the number
		// was reused: the old registration is dead (its duplicate kept its socket
		// open; closing it now releases the socket).
		old.unregistered.Store(true)
		old.loop.st.registered.Add(-1)
		retired = old
	}
	e.fds[fd] = f
	l.st.registered.Add(1)
	// Under fdmu and before fdclosed: Close has not begun, so the loops still run, the
	// wait group is above zero and these Adds cannot race with Close's Wait.
	e.wg.Add(2)
	l.st.waiters.Add(2) // each waiter takes one off when it ends
	e.fdmu.Unlock()
	if retired != nil {
		retired.closeFile()
	}
	go f.wait(dirRead)
	go f.wait(dirWrite)
	return &f.facade, nil
}

// sameFile reports whether the open descriptor fd refers to the same file as file (same
// device and inode). When either cannot be examined it answers true: a refused Register
// is the safe side.
func sameFile(file *os.File, fd int) bool {
	a, err := file.Stat()
	if err != nil {
		return true
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return true
	}
	b, ok := a.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	return uint64(b.Dev) == uint64(st.Dev) && uint64(b.Ino) == uint64(st.Ino)
}

// wait is a waiter goroutine: it parks in the runtime poller until dir is ready, queues a
// note for the loop (unless one is queued already) and parks again. The poller consumes
// an edge when the wait returns, so an edge after that point, even one during the
// handler call it leads to, wakes the waiter again: none is lost. It ends when
// file.Close wakes it with an error, or at its next edge once unregistered.
func (f *portFD) wait(dir int) {
	l := f.loop
	defer l.e.wg.Done()
	defer l.st.waiters.Add(-1)
	fn := func(uintptr) bool {
		if f.unregistered.Load() {
			return true
		}
		if f.pending[dir].CompareAndSwap(false, true) {
			l.notify(f, dir)
		}
		return false
	}
	if dir == dirRead {
		_ = f.rc.Read(fn)
	} else {
		_ = f.rc.Write(fn)
	}
}

// closeFile closes the duplicate once. File.Close wakes both waiters with an error and
// returns when the duplicate is closed, after they left the poller.
func (f *portFD) closeFile() {
	if f.closed.CompareAndSwap(false, true) {
		_ = f.file.Close()
	}
}

// unregister is FD.Unregister: mark, drop from the table, then close the duplicate
// (outside fdmu: the close waits for the waiters to leave the poller).
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
	f.closeFile()
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
