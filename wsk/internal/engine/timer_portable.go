//go:build unix || windows

package engine

import "time"

// portTimer is a Timer of the portable engine.
type portTimer struct {
	facade Timer // what AfterFunc hands out; facade.port is this timer
	loop   *portLoop
	timerEntry
}

// afterFunc is Loop.AfterFunc.
func (l *portLoop) afterFunc(d time.Duration, fn func()) *Timer {
	t := &portTimer{loop: l, timerEntry: timerEntry{when: time.Now().Add(d), fn: fn, index: -1}}
	t.facade.port = t
	if fn == nil {
		return &t.facade
	}
	if l.timers.push(&t.timerEntry) {
		l.wake()
	}
	return &t.facade
}

// stop is Timer.Stop.
func (t *portTimer) stop() bool { return t.loop.timers.stop(&t.timerEntry) }
