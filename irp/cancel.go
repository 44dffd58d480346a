package irp

import "runtime"

// The cancel-routine slot.
//
// Windows keeps Irp->CancelRoutine as a pointer swapped with InterlockedExchange
// and takes a global cancel spin lock around IoCancelIrp. This model makes an
// explicit model decision (the kind SPEC.md §9 lists) to have NO global lock: the slot is a
// plain func field guarded by a per-IRP one-bit lock word (crWord), held only for
// the few instructions of the exchange and never while a routine runs. This gives
// the exact semantics of the interlocked exchange without allocating (an
// atomic.Pointer would need a heap holder per routine). Cancel routines therefore
// run with no lock held and need no IoReleaseCancelSpinLock; bug check 0x11B
// (returning holding the cancel lock) cannot happen.
//
// The word, bit by bit:
//
//	bit 0  crLocked: someone is exchanging the slot (held for a few instructions)
//	bit 1  crSet: crRoutine is not nil; written with the unlock, so a reader that finds
//	       the word unlocked learns from one load whether a routine is set
//
// The completion and free paths only ask "is a routine set?" and the provider clears an
// empty slot on every request it finishes: both are one load, no locked instruction.
const (
	crLocked uint32 = 1 << iota
	crSet
)

func (i *IRP) lockCR() {
	for {
		w := i.crWord.Load()
		if w&crLocked == 0 {
			if i.crWord.CompareAndSwap(w, w|crLocked) {
				return
			}
			continue
		}
		runtime.Gosched() // held only for an exchange; yield rather than burn
	}
}

// unlockCR releases the slot and publishes whether a routine is now set.
func (i *IRP) unlockCR() {
	if i.crWord.Load()&crLocked == 0 {
		panic("irp: inconsistent cancel-routine lock (unlock of unlocked slot)")
	}
	w := uint32(0)
	if i.crRoutine != nil {
		w = crSet
	}
	i.crWord.Store(w)
}

// exchangeCR is the interlocked exchange of the slot. Exchanging nil for an empty,
// unlocked slot changes nothing, so it takes no lock: at the instant of the load the
// exchange would have returned nil and left nil.
func (i *IRP) exchangeCR(r CancelRoutine) CancelRoutine {
	if r == nil && i.crWord.Load() == 0 {
		return nil
	}
	i.lockCR()
	old := i.crRoutine
	i.crRoutine = r
	i.unlockCR()
	return old
}

func (i *IRP) takeCancelRoutine() CancelRoutine { return i.exchangeCR(nil) }

func (i *IRP) cancelRoutineSet() bool {
	switch i.crWord.Load() {
	case 0:
		return false
	case crSet:
		return true
	}
	return i.cancelRoutineSetLocked()
}

// cancelRoutineSetLocked is cancelRoutineSet while someone holds the slot: wait for the
// exchange and look. Kept apart so that the one-load case inlines.
func (i *IRP) cancelRoutineSetLocked() bool {
	i.lockCR()
	set := i.crRoutine != nil
	i.unlockCR()
	return set
}

// Cancel is IoCancelIrp: it sets the cancel flag (always), swaps the cancel routine
// out and runs it at most once, on this goroutine, with no lock held. It returns
// true iff a routine was found. Safe to call concurrently with anything the owner
// does, as long as the IRP cannot be freed meanwhile (use CancelLock for that).
// Cancelling a freed IRP is ignored and returns false.
func (i *IRP) Cancel() bool {
	if i.stateNow() == stateFreed {
		return false
	}
	i.cancel.Store(true)
	r := i.takeCancelRoutine()
	if r == nil {
		return false
	}
	statCancelled.Add(1)
	r(i)
	return true
}

// Cancelled reports the cancel flag (Irp->Cancel). Safe for concurrent use.
func (i *IRP) Cancelled() bool { return i.cancel.Load() }

// SetCancelRoutine is IoSetCancelRoutine: an atomic exchange; returns the previous routine,
// or nil if none was set or cancellation is under way (then the cancel routine owns the IRP
// and the caller must not complete it). Safe to call concurrently with Cancel.
// Typical use: SetCancelRoutine(r) when queueing, then check Cancelled() and, if set,
// SetCancelRoutine(nil) != nil means "I still own it, complete as cancelled".
func (i *IRP) SetCancelRoutine(r CancelRoutine) CancelRoutine { return i.exchangeCR(r) }
