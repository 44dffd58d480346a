//go:build windows

package engine

import (
	"context"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// loopSys is the Windows half of a portable loop: its poller.
type loopSys struct{ poller *poller }

// openSys makes the loop's poller and its wake-up socket (New, before any goroutine
// starts).
func (l *portLoop) openSys() error {
	if err := procWSAPoll.Find(); err != nil {
		return err
	}
	ws, err := openWakeSocket()
	if err != nil {
		return err
	}
	l.poller = &poller{loop: l, ws: ws}
	return nil
}

// closeSys closes the wake-up socket of a poller that never started (New failed).
func (l *portLoop) closeSys() { l.poller.shut() }

// startSys starts the poller goroutine, counted in wg and labelled for pprof.
func (l *portLoop) startSys(wg *sync.WaitGroup) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		pprof.Do(context.Background(), pprof.Labels("gowsk.poller", strconv.Itoa(l.index)), func(context.Context) {
			l.poller.run()
		})
	}()
}

// stopSys makes the poller exit (Engine.Close).
func (l *portLoop) stopSys() { l.poller.requestStop() }

// pollErrorBackoff is how long the poller waits after a WSAPoll that failed without
// reporting any socket, before it tries again: a failure that lasts must not spin.
const pollErrorBackoff = time.Millisecond

// poller is a Windows loop's source of readiness: one goroutine blocked in WSAPoll, with
// no timeout, over the watched directions of the loop's sockets and a wake-up socket of
// its own. WSAPoll is level-triggered; the poller turns it into the edges the Handler
// contract promises by reporting a direction once, clearing its watch bit, and watching
// it again only after the owner's rearm (fdSys.watch). A socket with no direction watched
// is left out of the array altogether: POLLHUP, POLLERR and POLLNVAL come back even for
// one that asks for nothing, and would make every WSAPoll return at once.
type poller struct {
	loop *portLoop
	ws   wakeSocket

	// sleeping and wakePending follow the loops' protocol (portLoop.sleeping): a waker
	// publishes its change (a watch bit, a new member, stop), then sends a datagram only
	// if the poller announced that it polls and no datagram is on its way; the poller
	// announces, then reads the watch bits and members to build its array.
	sleeping    atomic.Bool
	wakePending atomic.Bool
	stop        atomic.Bool
	// polls counts the WSAPoll calls that returned: the tests prove with it that a
	// socket reported once does not make the poller spin.
	polls atomic.Uint64

	mu      sync.Mutex
	members []*portFD // the loop's registrations still watched; fdSys.slot is the index
	closed  bool      // the wake-up socket is closed: wakers send nothing

	// Poller goroutine only, reused from one WSAPoll to the next: the array (entry 0 is
	// the wake-up socket), the registration of each other entry, and the notes for the
	// loop. All are bounded by the members.
	fds    []pollFD
	polled []*portFD
	notes  []readyNote
}

// run is the poller goroutine: announce, build the array, wait in WSAPoll, report.
func (p *poller) run() {
	defer p.shut()
	for {
		p.sleeping.Store(true)
		if p.stop.Load() {
			return
		}
		p.build()
		_, err := wsaPoll(p.fds)
		p.sleeping.Store(false)
		p.polls.Add(1)
		if !p.report() && err != nil {
			time.Sleep(pollErrorBackoff)
		}
	}
}

// build fills the array: the wake-up socket, then each member with a direction watched.
func (p *poller) build() {
	p.fds = append(p.fds[:0], pollFD{fd: p.ws.h, events: pollRdNorm})
	p.polled = p.polled[:0]
	p.mu.Lock()
	for _, f := range p.members {
		w := f.watch.Load()
		var ev int16
		if w&watchRead != 0 {
			ev |= pollRdNorm
		}
		if w&watchWrite != 0 {
			ev |= pollWrNorm
		}
		if ev != 0 {
			p.fds = append(p.fds, pollFD{fd: f.sock, events: ev})
			p.polled = append(p.polled, f)
		}
	}
	p.mu.Unlock()
}

// report turns a WSAPoll's results into readiness notes for the loop, handed over in one
// batch; any reports whether any entry had a result. For each socket:
//
//   - unregistered meanwhile: dropped (Unregister left a WSAPoll in progress alone);
//   - POLLNVAL: the owner closed the socket without Unregister. It is counted in
//     Stats.StaleEvents and leaves the members for good; the registration stays until
//     its Unregister (or a Register of the same value retires it);
//   - otherwise each direction asked for and reported is no longer watched and gets a
//     note. POLLHUP and POLLERR report every direction asked for (a reset or a failed
//     connect concerns the writer too) and mark the read note as a hang-up
//     (ReadableHangup). A result that names no direction asked for (not expected)
//     reports them all as well, so that no result can repeat at every WSAPoll.
func (p *poller) report() (any bool) {
	l := p.loop
	if p.fds[0].revents != 0 {
		any = true
		// Cleared before the drain: a waker that finds it clear sends a datagram this
		// drain may take, but the next build sees what it published before sending.
		p.wakePending.Store(false)
		p.ws.drain(8)
		l.st.wakeups.Add(1)
	}
	for i, f := range p.polled {
		e := &p.fds[i+1]
		rev := e.revents
		if rev == 0 {
			continue
		}
		any = true
		if f.unregistered.Load() {
			continue
		}
		if rev&pollNval != 0 {
			p.remove(f)
			l.st.stale.Add(1)
			continue
		}
		asked := uint32(0)
		if e.events&pollRdNorm != 0 {
			asked |= watchRead
		}
		if e.events&pollWrNorm != 0 {
			asked |= watchWrite
		}
		ready := uint32(0)
		if rev&pollRdNorm != 0 {
			ready |= watchRead
		}
		if rev&pollWrNorm != 0 {
			ready |= watchWrite
		}
		hup := rev&(pollHup|pollErr) != 0
		if ready &= asked; hup || ready == 0 {
			ready = asked
		}
		f.watch.And(^ready)
		if hup && ready&watchRead != 0 {
			f.hup.Store(true)
		}
		for dir := dirRead; dir <= dirWrite; dir++ {
			if ready&(1<<dir) != 0 && f.pending[dir].CompareAndSwap(false, true) {
				p.notes = append(p.notes, readyNote{f: f, dir: dir})
			}
		}
	}
	clear(p.polled)
	if len(p.notes) > 0 {
		l.notifyAll(p.notes)
		clear(p.notes)
		p.notes = p.notes[:0]
	}
	return any
}

// wakeUp makes a poller blocked (or about to block) in WSAPoll return, so that it builds
// its array again. Callers publish their change first (see sleeping). The send happens
// under mu, so it never reaches a wake-up socket shut has closed (whose handle value
// Windows may already have given to another socket).
func (p *poller) wakeUp() {
	if !p.sleeping.Load() || !p.wakePending.CompareAndSwap(false, true) {
		return
	}
	p.mu.Lock()
	if !p.closed && p.ws.send() != nil {
		p.wakePending.Store(false) // nothing is on its way: let the next waker send
	}
	p.mu.Unlock()
}

// requestStop makes the poller exit at its next turn.
func (p *poller) requestStop() {
	p.stop.Store(true)
	p.wakeUp()
}

// shut closes the wake-up socket and forgets the members, once the poller has left
// WSAPoll for good (or never started).
func (p *poller) shut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for _, f := range p.members {
		f.slot = -1
	}
	clear(p.members)
	p.members = nil
	p.ws.close()
}

// add makes f a member (Register, under fdmu). A poller that has shut takes none.
func (p *poller) add(f *portFD) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || f.slot >= 0 {
		return
	}
	f.slot = len(p.members)
	p.members = append(p.members, f)
}

// remove takes f out of the members, if it is one.
func (p *poller) remove(f *portFD) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := f.slot
	if i < 0 {
		return
	}
	last := len(p.members) - 1
	p.members[i] = p.members[last]
	p.members[i].slot = i
	p.members[last] = nil
	p.members = p.members[:last]
	f.slot = -1
}

// notifyAll queues the notes of one WSAPoll for the loop and wakes it once. Each note's
// pending flag was won by the poller, so none is queued twice.
func (l *portLoop) notifyAll(notes []readyNote) {
	l.posts.mu.Lock()
	if !l.posts.closed {
		l.ready = append(l.ready, notes...)
	}
	l.posts.mu.Unlock()
	l.wake()
}
