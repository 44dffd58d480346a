//go:build unix

package engine

import "sync"

// loopSys is the OS half of a portable loop: nothing on Unix, where the waiters of each
// registration bring the readiness notes.
type loopSys struct{}

func (*loopSys) openSys() error           { return nil }
func (*loopSys) closeSys()                {}
func (*loopSys) startSys(*sync.WaitGroup) {}
func (*loopSys) stopSys()                 {}

// notify queues a readiness note from a waiter goroutine. The caller won the FD's
// pending flag for dir, so the note is the only one of its kind in the queue.
func (l *portLoop) notify(f *portFD, dir int) {
	l.posts.mu.Lock()
	if l.posts.closed {
		l.posts.mu.Unlock()
		return
	}
	l.ready = append(l.ready, readyNote{f: f, dir: dir})
	l.posts.mu.Unlock()
	l.wake()
}
