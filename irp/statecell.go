package irp

import (
	"runtime"
	"sync/atomic"
)

// The state word, bit by bit. Each IRP has one 64-bit word that holds its ownership state
// and, beside it, the IRP's own share of the Allocated and Submitted counters. A transition
// changes state and count together in the one compare-and-swap it needs anyway, so the
// statistics cost the cycle no locked instruction of their own (ReadStats sums the words,
// see stats.go):
//
//	bits 0-2    state: stateIdle … stateFreed (below)
//	bits 3-32   allocs: Allocate calls that returned this IRP (30 bits)
//	bits 33-63  subs: submissions of this IRP, first Enter or completion without Enter (31 bits)
//
// Freed and Completed are not stored: they follow from the state. An IRP that is not Freed
// has one allocation not yet freed, and an IRP in Submitted has one submission not yet
// completed (Completed counts the claim of the walk, the word leaving Submitted), so
//
//	freed = allocs - (state != Freed)    completed = subs - (state == Submitted)
//
// Before a field would overflow, the transition that would carry it moves the field's
// count into registry.retired and restarts it at one, under the registry lock, so a
// ReadStats (which holds that lock) sees each count once.
//
// The word lives in its own small allocation, the stateCell, which the IRP points to: the
// registry keeps the cell after the IRP is collected (a pooled IRP that sync.Pool drops),
// until a cleanup folds its counts into registry.retired.
//
// Ownership states (the low three bits). Transitions, by CAS except where no one else may
// write the word (Allocate on a pooled IRP, the walk's hand-overs out of Completing), which
// store:
//
//	Idle      --Enter-->           Submitted   (the callee owns it)
//	Submitted --CompleteRequest--> Completing  (routines are being walked)
//	Completing --walk pauses/ends--> Completed (owner owns it again)
//	Submitted --CompleteRequest--> Completed   (when the first location walked runs its
//	                                            routine: the claim and the hand-over at once)
//	Completed --CompleteRequest--> Completing  (resume above an MPR stop only)
//	Completed --Enter-->           Submitted   (sent down again after an MPR stop)
//	Idle/Completed --Reuse--> Idle; Idle/Completed --Free--> Freed; Freed --Allocate--> Idle
//
// While a completion routine runs the word is already Completed: the routine owns
// the IRP and may Free, Reuse or re-complete it before returning
// MoreProcessingRequired. Submitted and Completing are "pending": Free and Reuse are
// refused there.
const (
	stateIdle uint64 = iota
	stateSubmitted
	stateCompleting
	stateCompleted
	stateFreed

	stateMask  uint64 = 1<<3 - 1
	allocShift        = 3
	allocBits         = 30
	allocOne   uint64 = 1 << allocShift
	allocMask  uint64 = (1<<allocBits - 1) << allocShift
	subShift          = allocShift + allocBits
	subOne     uint64 = 1 << subShift
	subMask    uint64 = (1<<(64-subShift) - 1) << subShift
)

// The field values (in place in the word) at which a count is flushed into
// registry.retired instead of being incremented: the fields' largest values. Tests lower
// them to reach the flush path.
var (
	allocLimit = allocMask
	subLimit   = subMask
)

func stateOf(w uint64) uint64  { return w & stateMask }
func allocsOf(w uint64) uint64 { return (w & allocMask) >> allocShift }
func subsOf(w uint64) uint64   { return w >> subShift }

// withState is w with its state replaced by s, counts kept.
func withState(w, s uint64) uint64 { return w&^stateMask | s }

// stateCell holds an IRP's state word (see above).
type stateCell struct {
	w   atomic.Uint64
	idx int // position in registry.cells; guarded by registry.mu
}

// word returns the IRP's state cell. An IRP from Allocate has had one from the start; a
// zero IRP (declared, not allocated) gets one on its first use and from then on behaves as
// a freshly allocated IRP without stack locations: idle, and counted in Allocated. Call it
// as the owner; Cancel, the one non-owner that reads the word, uses stateNow.
func (i *IRP) word() *stateCell {
	if c := i.cell.Load(); c != nil {
		return c
	}
	return i.adoptCell()
}

// adoptCell sets up a zero IRP on its owner's first use: a registered cell, and the
// location numbering of a fresh IRP.
func (i *IRP) adoptCell() *stateCell {
	i.current = len(i.stack) + 1
	return i.newCell()
}

// stateNow is the state for a reader that may not own the IRP: that of the word, or Idle
// for a zero IRP not used yet.
func (i *IRP) stateNow() uint64 {
	if c := i.cell.Load(); c != nil {
		return stateOf(c.w.Load())
	}
	return stateIdle
}

// newIRP makes the IRP behind an Allocate that found none in the pool: idle, with its
// first allocation counted.
func newIRP(stackSize int) *IRP {
	i := &IRP{stack: make([]location, stackSize), current: stackSize + 1}
	i.newCell()
	return i
}

// newCell gives i its state cell, idle with one allocation counted, and registers it.
func (i *IRP) newCell() *stateCell {
	c := &stateCell{}
	c.w.Store(stateIdle | allocOne)
	i.cell.Store(c)
	register(i, c)
	return c
}

// register enters c in the registry and arranges for its counts to be retired once i is
// collected. c must not point back to i (it does not), or i would never be collected.
func register(i *IRP, c *stateCell) {
	registry.mu.Lock()
	c.idx = len(registry.cells)
	registry.cells = append(registry.cells, c)
	registry.mu.Unlock()
	runtime.AddCleanup(i, retire, c)
}

// reallocate is the state half of Allocate for a pooled IRP, which is Freed and reached by
// no one else: Freed → Idle, one more allocation. The common case is in Allocate itself;
// this is the case of a full allocation count, moved into registry.retired and restarted
// at one under the registry lock.
func (c *stateCell) reallocate() {
	registry.mu.Lock()
	w := c.w.Load()
	a := allocsOf(w)
	registry.retired.allocated += a
	registry.retired.freed += a // state Freed: every allocation was freed
	c.w.Store(withState(w&^allocMask, stateIdle) | allocOne)
	registry.mu.Unlock()
}

// submit is a CAS from w (Idle or Completed: every submission so far completed) to state
// to, counting one submission. It reports whether the CAS won.
func (c *stateCell) submit(w, to uint64) bool {
	if w&subMask < subLimit {
		return c.w.CompareAndSwap(w, w&^stateMask+subOne|to)
	}
	return c.submitFlush(w, to)
}

// submitFlush is submit with the submission count full: the CAS restarts the count at one
// and, if it wins, the old count moves into registry.retired, both under the registry lock.
func (c *stateCell) submitFlush(w, to uint64) bool {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if !c.w.CompareAndSwap(w, withState(w&^subMask, to)|subOne) {
		return false
	}
	s := subsOf(w)
	registry.retired.submitted += s
	registry.retired.completed += s
	return true
}
