package winsock

import (
	"sync"
	"sync/atomic"
)

// CompletionRoutine is LPWSAOVERLAPPED_COMPLETION_ROUTINE: it runs once per
// overlapped operation, as an APC on the thread that issued the call, at one of its
// alertable points. err is 0 or the operation's WSA code (WSA_OPERATION_ABORTED when a
// close cancelled it).
type CompletionRoutine func(err WSAError, bytes uint32, ov *Overlapped, flags uint32)

// Overlapped is WSAOVERLAPPED: one overlapped operation's state. Event is hEvent, set
// when the operation completes (unless the socket is associated with a completion
// port, which gets a packet instead, or a completion routine was given, which gets
// the APC). An Overlapped may be reused once its operation has completed; handing
// it to a second call while the first is pending is WSAEINVAL. Pointer is for the
// application (the classic "context after the OVERLAPPED" trick).
type Overlapped struct {
	Event   *Event
	Pointer any

	mu      sync.Mutex
	pending bool // Internal == WSS_OPERATION_IN_PROGRESS
	err     WSAError
	bytes   uint32
	flags   uint32
	done    chan struct{} // closed by the completion; made by begin
	ends    atomic.Uint64 // completions ever recorded (one per operation)
	starts  atomic.Uint64 // operations ever begun
}

// Begin marks ov in progress for a new operation; false when it still has one. The
// switch calls it for the application's Overlapped; a layered provider calls it for
// the substitute it hands down.
func (ov *Overlapped) Begin() bool {
	ov.mu.Lock()
	defer ov.mu.Unlock()
	if ov.pending {
		return false
	}
	ov.pending, ov.err, ov.bytes, ov.flags = true, 0, 0, 0
	ov.done = make(chan struct{})
	ov.starts.Add(1)
	return true
}

// abandon undoes begin for a call the provider refused before it started anything
// (ov still pending); an operation that already completed is left alone.
func (ov *Overlapped) abandon() {
	ov.mu.Lock()
	defer ov.mu.Unlock()
	if !ov.pending {
		return
	}
	ov.pending = false
	close(ov.done)
	ov.starts.Add(^uint64(0))
}

// SetResult records the outcome of ov's operation: bytes and flags first, then the
// status (InternalHigh before Internal). A provider calls it exactly once per
// operation, before the notification; it returns false (and records nothing) when ov
// has no operation in progress, so a second completion is refused and counted.
// WPUCompleteOverlappedRequest calls it itself.
func (ov *Overlapped) SetResult(err WSAError, bytes, flags uint32) bool {
	ov.mu.Lock()
	defer ov.mu.Unlock()
	if !ov.pending {
		return false
	}
	ov.bytes, ov.flags, ov.err = bytes, flags, err
	ov.pending = false
	ov.ends.Add(1)
	close(ov.done)
	return true
}

// Result returns the outcome once the operation has completed; pending is true
// (and the rest zero) while it has not. Safe for concurrent use.
func (ov *Overlapped) Result() (err WSAError, bytes, flags uint32, pending bool) {
	ov.mu.Lock()
	defer ov.mu.Unlock()
	if ov.pending {
		return 0, 0, 0, true
	}
	return ov.err, ov.bytes, ov.flags, false
}

// Completions returns how many operations begun on ov have completed, and how many
// were begun: equal once nothing is pending (the exactly-once count of the tests).
func (ov *Overlapped) Completions() (completed, started uint64) {
	return ov.ends.Load(), ov.starts.Load()
}

func (ov *Overlapped) doneChan() <-chan struct{} {
	ov.mu.Lock()
	defer ov.mu.Unlock()
	if ov.done == nil {
		return closedChan
	}
	return ov.done
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()
