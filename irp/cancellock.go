package irp

import "sync/atomic"

// CancelLock is the four-state interlocked "IRPLOCK" of Microsoft's IRP handling
// cheat sheet (SPEC.md §4.7). It lets an owner cancel an IRP it allocated while
// the completion routine may free it, without use-after-free: whichever side
// finishes last frees (or reuses) the IRP, exactly once.
//
//	CANCELABLE -> COMPLETED                                  (no cancel)
//	CANCELABLE -> CANCEL_STARTED -> CANCEL_COMPLETE -> COMPLETED  (cancel first)
//	CANCELABLE -> CANCEL_STARTED -> COMPLETED -> CANCEL_COMPLETE  (completion during cancel)
//
// The zero value is CANCELABLE. All methods are safe for concurrent use.
type CancelLock struct{ state atomic.Uint32 }

// CancelLock states, with the cheat-sheet names.
const (
	Cancelable     uint32 = iota // IRPLOCK_CANCELABLE
	CancelStarted                // IRPLOCK_CANCEL_STARTED
	CancelComplete               // IRPLOCK_CANCEL_COMPLETE
	LockCompleted                // IRPLOCK_COMPLETED
)

// Reset returns the lock to CANCELABLE for a reused IRP. Call it only when no
// completion and no cancel is in progress.
func (l *CancelLock) Reset() { l.state.Store(Cancelable) }

// State returns the current state (for tests and diagnostics).
func (l *CancelLock) State() uint32 { return l.state.Load() }

// Completed is the completion-routine side: it records completion and reports
// whether the caller must free/finish the IRP now. false means a canceller is
// inside IoCancelIrp and will free it when it returns. Calling it twice in one
// cycle is reported as 0x44 MULTIPLE_IRP_COMPLETE_REQUESTS and returns false.
func (l *CancelLock) Completed() (mustFinish bool) {
	old := l.state.Swap(LockCompleted)
	switch old {
	case Cancelable, CancelComplete:
		return true
	case CancelStarted:
		return false
	}
	// Already COMPLETED: the completion side ran twice. Report it as the double
	// completion it is; the first call already decided who finishes.
	report(vMultipleComplete, "CancelLock completed twice (state already COMPLETED)")
	return false
}

// Cancel is the canceller side: if the IRP is still CANCELABLE it calls i.Cancel()
// and reports whether the caller must free/finish the IRP (the completion ran while
// it was cancelling). If completion already happened, it does nothing and returns
// false. Only one canceller per lock cycle gets to cancel.
func (l *CancelLock) Cancel(i *IRP) (mustFinish bool) {
	if !l.state.CompareAndSwap(Cancelable, CancelStarted) {
		return false // completed already, or someone else is cancelling
	}
	i.Cancel()
	return l.state.Swap(CancelComplete) == LockCompleted
}
