package winsock

import "sync"

// Event is a WSAEVENT: a manual-reset event object (WSACreateEvent). Set and Reset
// are safe for concurrent use; a closed event fails every wait.
type Event struct {
	mu      sync.Mutex
	set     bool
	closed  bool
	waiters map[chan struct{}]struct{}
}

// WSACreateEvent returns a manual-reset event, not set.
func WSACreateEvent() *Event { return &Event{} }

// WSASetEvent sets ev and wakes its waiters; false for nil or a closed event.
func WSASetEvent(ev *Event) bool {
	return ev.change(func() {
		ev.set = true
		ev.wakeLocked()
	})
}

// WSAResetEvent clears ev; false for nil or a closed event.
func WSAResetEvent(ev *Event) bool { return ev.change(func() { ev.set = false }) }

// WSACloseEvent closes ev; a second close returns false. Waits on it fail from then on.
func WSACloseEvent(ev *Event) bool {
	return ev.change(func() {
		ev.closed = true
		ev.wakeLocked()
	})
}

// change runs fn under ev's lock unless ev is nil or closed.
func (ev *Event) change(fn func()) bool {
	if ev == nil {
		return false
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.closed {
		return false
	}
	fn()
	return true
}

// wakeLocked tells every waiter to look again (a token each, never blocking).
func (ev *Event) wakeLocked() {
	for w := range ev.waiters {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// IsSet reports whether ev is set (a poll, for tests and diagnostics).
func (ev *Event) IsSet() bool {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return ev.set
}

func (ev *Event) isClosed() bool {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return ev.closed
}

func (ev *Event) addWaiter(w chan struct{}) {
	ev.mu.Lock()
	if ev.waiters == nil {
		ev.waiters = make(map[chan struct{}]struct{})
	}
	ev.waiters[w] = struct{}{}
	ev.mu.Unlock()
}

func (ev *Event) removeWaiter(w chan struct{}) {
	ev.mu.Lock()
	delete(ev.waiters, w)
	ev.mu.Unlock()
}

// signalled checks evs: with all, every one must be set (result WaitObject0); else the
// first set one wins (WaitObject0 + index). A closed event is WaitFailed.
func signalled(evs []*Event, all bool) (uint32, bool) {
	if len(evs) == 0 {
		return 0, false
	}
	n := 0
	for i, e := range evs {
		e.mu.Lock()
		set, closed := e.set, e.closed
		e.mu.Unlock()
		if closed {
			return WaitFailed, true
		}
		if set {
			if !all {
				return WaitObject0 + uint32(i), true
			}
			n++
		}
	}
	if all && n == len(evs) {
		return WaitObject0, true
	}
	return 0, false
}
