package winsock

import (
	"sync"
	"time"
)

// maxPackets bounds a completion port's queue; a packet beyond it is dropped and
// counted (Stats.PacketsDropped): each pending operation posts one, so only a port
// nobody reads from can reach it.
const maxPackets = 1 << 20

// Packet is one completion packet: what GetQueuedCompletionStatus returns.
type Packet struct {
	Bytes      uint32
	Key        uintptr
	Overlapped *Overlapped
	Err        WSAError
}

// CompletionPort is an I/O completion port (CreateIoCompletionPort). Sockets
// associated with it post a packet per completed overlapped operation instead of
// setting the operation's event. Safe for concurrent use.
type CompletionPort struct {
	w      *WSA
	mu     sync.Mutex
	q      []Packet
	closed bool
	wake   chan struct{} // one token per post, capped: waiters re-check the queue
}

func newPort(w *WSA) *CompletionPort {
	return &CompletionPort{w: w, wake: make(chan struct{}, 1)}
}

func (p *CompletionPort) post(pk Packet) bool {
	p.mu.Lock()
	if p.closed || len(p.q) >= maxPackets {
		p.mu.Unlock()
		return false
	}
	p.q = append(p.q, pk)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return true
}

// PostQueuedCompletionStatus posts a packet of the application's own; false once the
// port is closed.
func (p *CompletionPort) PostQueuedCompletionStatus(bytes uint32, key uintptr, ov *Overlapped) bool {
	return p.post(Packet{Bytes: bytes, Key: key, Overlapped: ov})
}

// GetQueuedCompletionStatus dequeues one packet, waiting up to d (Infinite: forever).
// ok is false on timeout or once the port is closed and empty. Any goroutine may
// wait; each packet goes to exactly one waiter.
func (p *CompletionPort) GetQueuedCompletionStatus(d time.Duration) (pk Packet, ok bool) {
	var deadline <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		deadline = t.C
	}
	for {
		p.mu.Lock()
		if len(p.q) > 0 {
			pk = p.q[0]
			p.q[0] = Packet{}
			p.q = p.q[1:]
			more := len(p.q) > 0
			p.mu.Unlock()
			if more {
				select { // pass the token on: another waiter may take the next one
				case p.wake <- struct{}{}:
				default:
				}
			}
			return pk, true
		}
		closed := p.closed
		p.mu.Unlock()
		if closed {
			select { // wake the next waiter: it must see the close too
			case p.wake <- struct{}{}:
			default:
			}
			return Packet{}, false
		}
		select {
		case <-p.wake:
		case <-deadline:
			return Packet{}, false
		}
	}
}

// Close closes the port (CloseHandle): later posts are dropped, waiters return once
// it is empty.
func (p *CompletionPort) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}
