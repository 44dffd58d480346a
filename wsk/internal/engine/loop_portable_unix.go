//go:build unix

package engine

import "sync"

// loopSys is the OS half of a portable loop: nothing on Unix, where the waiters of each
// registration bring the readiness notes.
type loopSys struct{}

func (l *portLoop) openSys() error           { return nil }
func (l *portLoop) closeSys()                {}
func (l *portLoop) startSys(*sync.WaitGroup) {}
func (l *portLoop) stopSys()                 {}
