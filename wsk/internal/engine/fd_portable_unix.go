//go:build unix

package engine

import (
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// fdSys is the Unix half of a portable registration.
//
// Ownership: the owner keeps its descriptor (fd) and closes it itself. The engine works
// on a duplicate (dup) wrapped in file, which it alone closes, through file.Close, at
// Unregister or Close: a duplicate refers to the same open socket, so the poller reports
// the socket's readiness, and no number is closed twice. The owner's close then drops the
// last reference: SO_LINGER {1, 0} followed by close still resets the connection, because
// Unregister (and UnregisterFunc before fn runs) closes the duplicate first.
type fdSys struct {
	file   *os.File
	rc     syscall.RawConn
	closed atomic.Bool // file.Close was called (once)
}

// checkFD reports whether fd can name a descriptor at all.
func checkFD(fd int) bool { return fd >= 0 }

// openSys duplicates f.fd and hands the duplicate to the runtime poller.
func (f *portFD) openSys() error {
	dup, err := unix.FcntlInt(uintptr(f.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return err
	}
	file := os.NewFile(uintptr(dup), "gowsk")
	// A descriptor the poller cannot watch (a regular file, a blocking descriptor) has no
	// deadlines: refuse it rather than start waiters that would fail at once.
	if err := file.SetReadDeadline(time.Time{}); err != nil {
		_ = file.Close()
		return ErrBadFD
	}
	rc, err := file.SyscallConn()
	if err != nil {
		_ = file.Close()
		return err
	}
	f.file, f.rc = file, rc
	return nil
}

// sameSocket is EEXIST when the open descriptor fd refers to the same file as this
// registration's duplicate (same device and inode): a double Register of one descriptor,
// refused as epoll refuses it. nil means the number now names another socket. When either
// cannot be examined it answers EEXIST: a refused Register is the safe side.
func (f *portFD) sameSocket(fd int) error {
	a, err := f.file.Stat()
	if err != nil {
		return unix.EEXIST
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return unix.EEXIST
	}
	b, ok := a.Sys().(*syscall.Stat_t)
	if !ok || uint64(b.Dev) == uint64(st.Dev) && uint64(b.Ino) == uint64(st.Ino) {
		return unix.EEXIST
	}
	return nil
}

// attach counts the two waiters the registration is about to start. Under fdmu and
// before fdclosed: Close has not begun, so the loops still run, the wait group is above
// zero and these Adds cannot race with Close's Wait.
func (f *portFD) attach() {
	f.loop.e.wg.Add(2)
	f.loop.st.waiters.Add(2) // each waiter takes one off when it ends
}

// start starts one waiter per direction. Each waiter's first pass reports the direction
// at once, as epoll reports a descriptor already ready when it is added: the poller
// forgets readiness from before the wait, so the handler is asked to look.
func (f *portFD) start() {
	go f.wait(dirRead)
	go f.wait(dirWrite)
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

// detach closes the duplicate once. File.Close wakes both waiters with an error and
// returns when the duplicate is closed, after they left the poller.
func (f *portFD) detach() {
	if f.closed.CompareAndSwap(false, true) {
		_ = f.file.Close()
	}
}

// readHangup reports whether the read edge being delivered may carry a hang-up: always,
// as the poller does not say (the handler reads until EAGAIN or EOF).
func (f *portFD) readHangup() bool { return true }
