//go:build windows

package engine

import (
	"sync/atomic"

	"golang.org/x/sys/windows"
)

// Watch bits of fdSys.watch, one per direction.
const (
	watchRead  = 1 << dirRead
	watchWrite = 1 << dirWrite
)

// fdSys is the Windows half of a portable registration: the owner's socket, watched by
// the loop's poller (poller_windows.go).
//
// Ownership: there is no duplicate on Windows. The engine watches the owner's handle
// itself and never closes it; the owner's closesocket after Unregister (in
// UnregisterCloseFunc's fn) is the last close of the socket, so SO_LINGER {1, 0} then
// resets the connection.
type fdSys struct {
	sock windows.Handle
	// watch holds the directions the poller watches (watchRead, watchWrite). Register
	// sets both, as epoll reports a descriptor already ready when it is added; the
	// poller clears a direction when it reports it; RearmRead and RearmWrite set it
	// again. Only the poller clears bits, only the owner's rearm (and Register) sets
	// them.
	watch atomic.Uint32
	// hup is set by the poller when a read report carried POLLHUP or POLLERR, and taken
	// by the loop when it delivers the read note (readHangup).
	hup atomic.Bool
	// slot is the registration's index in its poller's members, -1 when it is none of
	// them (not attached yet, detached, or dropped on POLLNVAL). Guarded by poller.mu.
	slot int
}

// maxHandle is the largest handle value: Windows keeps handle values 32 bits significant,
// so that 32- and 64-bit processes can share them.
const maxHandle = 1<<32 - 1

// checkFD reports whether fd can be a SOCKET handle's value.
func checkFD(fd int) bool { return fd >= 0 && uint64(fd) <= maxHandle }

// openSys checks that f.fd is an open socket (a closed handle or a file is ErrBadFD) and
// watches both directions.
func (f *portFD) openSys() error {
	f.sock = windows.Handle(f.fd)
	f.slot = -1
	if !isSocket(f.sock) {
		return ErrBadFD
	}
	f.watch.Store(watchRead | watchWrite)
	return nil
}

// sameSocket never refuses: nothing tells a second Register of one socket from a new
// socket under the value of a handle its owner closed without Unregister (Windows
// reuses handle values at once), so the later Register wins (Engine.Register).
func (f *portFD) sameSocket(int) error { return nil }

// attach makes the registration one of its poller's members (under fdmu: Close then
// finds it in the table and detaches it).
func (f *portFD) attach() { f.loop.poller.add(f) }

// start wakes the poller, which may sleep in a WSAPoll that does not include the socket.
func (f *portFD) start() { f.loop.poller.wakeUp() }

// detach takes the registration out of its poller's members. It does not wake the
// poller: a WSAPoll in progress may still include the socket, and a report for it is
// dropped (the registration is unregistered); the owner's closesocket ends that wait
// anyway (POLLNVAL), and the next array leaves the socket out. One send less per close.
func (f *portFD) detach() { f.loop.poller.remove(f) }

// rearm is FD.RearmRead and FD.RearmWrite: watch dir again. A direction still watched
// costs one load; one the poller stopped watching is set again, and the poller is woken
// if it sleeps (its WSAPoll array was built without it). The bit is set before the
// poller's sleeping flag is read, and the poller sets that flag before it reads the bits
// (poller.sleeping): one of the two sees the other.
func (f *portFD) rearm(dir int) {
	bit := uint32(1) << dir
	if f.watch.Load()&bit != 0 || f.watch.Or(bit)&bit != 0 {
		return
	}
	if !f.unregistered.Load() {
		f.loop.poller.wakeUp()
	}
}

// readHangup reports whether the read note being delivered carried POLLHUP or POLLERR,
// and clears it: the next read edge says so again if it does.
func (f *portFD) readHangup() bool { return f.hup.Swap(false) }
