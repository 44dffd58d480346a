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
const (
	crUnlocked uint32 = 0
	crLocked   uint32 = 1 // bit 0: someone is exchanging the slot
)

func (i *IRP) lockCR() {
	for !i.crWord.CompareAndSwap(crUnlocked, crLocked) {
		runtime.Gosched() // held only for an exchange; yield rather than burn
	}
}

func (i *IRP) unlockCR() {
	if !i.crWord.CompareAndSwap(crLocked, crUnlocked) {
		panic("irp: inconsistent cancel-routine lock (unlock of unlocked slot)")
	}
}

// exchangeCR is the interlocked exchange of the slot.
func (i *IRP) exchangeCR(r CancelRoutine) CancelRoutine {
	i.lockCR()
	old := i.crRoutine
	i.crRoutine = r
	i.unlockCR()
	return old
}

func (i *IRP) takeCancelRoutine() CancelRoutine { return i.exchangeCR(nil) }

func (i *IRP) cancelRoutineSet() bool {
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
	if i.state.Load() == stateFreed {
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
