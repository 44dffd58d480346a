//go:build linux

package engine

import "time"

// Timer is a one-shot function scheduled on a loop by AfterFunc.
type Timer struct {
	loop *Loop
	timerEntry

	port *portTimer // non-nil: a timer of the portable engine; the rest is unused
}

// AfterFunc runs fn on the loop goroutine once d has elapsed (d <= 0: at
// the loop's next turn). It is safe from any goroutine. After the engine
// has closed it returns a Timer that never fires.
func (l *Loop) AfterFunc(d time.Duration, fn func()) *Timer {
	if l.port != nil {
		return l.port.afterFunc(d, fn)
	}
	t := &Timer{loop: l, timerEntry: timerEntry{when: time.Now().Add(d), fn: fn, index: -1}}
	if fn == nil {
		return t
	}
	if l.timers.push(&t.timerEntry) {
		// The loop may be sleeping with a later timeout. wake is a no-op
		// when the loop is awake: it recomputes the timeout before it
		// sleeps.
		l.wake()
	}
	return t
}

// Stop prevents the timer from firing. It returns true if it stopped the
// timer, false if the timer had already fired (or started firing), had
// been stopped, or was dropped by Close. Safe from any goroutine.
func (t *Timer) Stop() bool {
	if t != nil && t.port != nil {
		return t.port.stop()
	}
	if t == nil || t.loop == nil {
		return false
	}
	return t.loop.timers.stop(&t.timerEntry)
}
