package irp

// Complete sets IoStatus{status, info} and calls CompleteRequest. The Object field
// is cleared. After it returns the caller must not touch the IRP.
//
// Complete an IRP exactly once. A second completion is bug check 0x44: it panics in
// verifier mode, and otherwise is ignored, counted ([ReadStats]().Violations,
// [ViolationCount]) and, the first time in the process, logged to slog.Default (see the
// package doc's Misuse section).
func (i *IRP) Complete(status Status, info uintptr) {
	i.CompleteObject(status, info, nil)
}

// CompleteObject is Complete with IoStatus.Object set (socket-producing calls).
func (i *IRP) CompleteObject(status Status, info uintptr, obj any) {
	// The common case first: a submitted IRP with nothing to report. It needs none of
	// checkCompletable's other checks, and its state word is already loaded for the claim.
	c := i.word()
	if w := c.w.Load(); stateOf(w) == stateSubmitted && status != Pending && !i.cancelRoutineSet() {
		i.IoStatus = IoStatusBlock{Status: status, Information: info, Object: obj}
		if i.heldHere() || !i.completeFast(c, w) {
			i.claimAndWalk(c)
		}
		return
	}
	if !i.checkCompletable(status) {
		return
	}
	i.IoStatus = IoStatusBlock{Status: status, Information: info, Object: obj}
	i.completeRequest()
}

// CompleteRequest is IoCompleteRequest with IoStatus already filled in. It walks the
// stack from the current location upward (innermost driver first), following
// ReactOS's IofCompleteRequest (SPEC.md §4.4):
//
//   - PendingReturned is loaded from each location's pending bit;
//   - the location's routine runs if (success && OnSuccess) || (!success && OnError)
//     || (Cancel && OnCancel), receiving the Device of the location above (nil at the top);
//   - MoreProcessingRequired stops the walk at once; a later CompleteRequest resumes
//     above the stopping point;
//   - when no routine runs, a set pending bit is carried to the location above.
//
// Completing an IRP that was never entered first enters it implicitly (nil device),
// so the routine the owner set in the next location runs.
//
// Rejected (bug check in verifier mode, counted and refused otherwise): completing
// twice (0x44), completing with Pending as the final status, and completing with a
// cancel routine still set (0x48; the routine is removed and completion proceeds).
// The caller must own the IRP and must not touch it after the call.
func (i *IRP) CompleteRequest() {
	if !i.checkCompletable(i.IoStatus.Status) {
		return
	}
	i.completeRequest()
}

// checkCompletable performs the status checks that must happen before IoStatus is
// written, so a rejected second completion does not clobber the first result.
func (i *IRP) checkCompletable(status Status) bool {
	switch s := stateOf(i.word().w.Load()); {
	case s == stateFreed:
		report(vUseAfterFree, "completing a freed IRP")
		return false
	case s == stateCompleting, s == stateCompleted && i.current > len(i.stack):
		report(vMultipleComplete, "IRP completed a second time")
		return false
	}
	if status == Pending {
		report(vCompletePendingStatus, "IoStatus.Status is STATUS_PENDING at completion")
		return false
	}
	if i.cancelRoutineSet() {
		// Checked before the walk is claimed, so a verifier panic leaves the IRP
		// as it was. Safe action: remove the routine (it must never run on a
		// completed IRP) and complete.
		report(vCancelStateInCompleted, "cancel routine still set at completion")
		i.takeCancelRoutine()
	}
	return true
}

func (i *IRP) completeRequest() {
	c := i.word()
	if w := c.w.Load(); stateOf(w) != stateSubmitted || i.heldHere() || !i.completeFast(c, w) {
		i.claimAndWalk(c)
	}
}

// claimAndWalk is the general completion: claim the walk (→ Completing) and walk. Idle
// counts as an implicit submission so Pending stays balanced.
func (i *IRP) claimAndWalk(c *stateCell) {
	for {
		w := c.w.Load()
		switch s := stateOf(w); {
		case s == stateSubmitted:
			if !c.w.CompareAndSwap(w, withState(w, stateCompleting)) {
				continue
			}
		case s == stateIdle:
			if !c.submit(w, stateCompleting) {
				continue
			}
			// Completed without Enter (e.g. a call refused before it reached the
			// provider): behave as if the callee had entered it with no device,
			// so the caller's routine in the next location still runs and a
			// waiter never hangs.
			if i.current > 1 {
				i.current--
			}
		case s == stateCompleted && i.current <= len(i.stack):
			if !c.w.CompareAndSwap(w, withState(w, stateCompleting)) {
				continue
			}
		default:
			report(vMultipleComplete, "IRP completed a second time")
			return
		}
		break
	}
	i.walk()
}

// completeFast is the common completion, a submitted IRP (w, loaded from c, says
// Submitted) whose current location runs its routine, in one transition: Submitted →
// Completed claims the walk and hands the IRP to that routine at once, where the general
// path takes two (→ Completing, → Completed). The location is only read until the CAS has
// won. It declines (false, nothing changed) when the word has changed since w or the
// routine does not run here. Call it only when !heldHere: an exclusive claim must be
// released while the word says Completing (a resubmission racing the release then finds
// Completing and is refused), so such an IRP takes the general path.
func (i *IRP) completeFast(c *stateCell, w uint64) bool {
	k := i.current
	if k < 1 || k > len(i.stack) || !i.runs(&i.stack[k-1]) {
		return false
	}
	if !c.w.CompareAndSwap(w, withState(w, stateCompleted)) {
		return false
	}
	// Completed: the IRP belongs to the routine about to be called, and to this goroutine
	// until the call; no one else can have it yet.
	r, ctx, dev := i.finish(k)
	if dev != nil && i.HeldExclusively(dev) {
		i.exclusive.Store(nil) // found unheld before, but a resubmission may have raced in
	}
	if i.invoke(k, r, ctx) {
		i.walk()
	}
	return true
}

// heldHere reports whether the device of the current location holds the IRP exclusively
// (EnterExclusive), so that finishing the location releases the claim.
func (i *IRP) heldHere() bool {
	k := i.current
	return k >= 1 && k <= len(i.stack) && i.stack[k-1].device != nil && i.HeldExclusively(i.stack[k-1].device)
}

// runs reports whether loc's routine runs for the IRP's final status and cancel flag.
func (i *IRP) runs(loc *location) bool {
	if loc.routine == nil {
		return false
	}
	success := i.IoStatus.Status.IsSuccess()
	return success && loc.control&InvokeOnSuccess != 0 ||
		!success && loc.control&InvokeOnError != 0 ||
		loc.control&InvokeOnCancel != 0 && i.cancel.Load()
}

// finish retires location k (1-based) as the walk passes it: the location is zeroed, the
// walk moves above it, and PendingReturned takes its pending bit. It returns the location's
// routine, context and device, which the zeroing erased; the caller releases the device's
// exclusive claim before any routine runs.
func (i *IRP) finish(k int) (CompletionRoutine, any, *Device) {
	loc := &i.stack[k-1]
	r, ctx, dev := loc.routine, loc.ctx, loc.device
	i.pendingReturned = loc.pending
	*loc = location{}
	i.current = k + 1
	return r, ctx, dev
}

// invoke runs r, the routine of the finished location k, with the state already
// Completed. It reports whether the walk goes on (the routine returned ContinueCompletion
// and the IRP is Completing again); false means the IRP is the routine's and must not be
// touched.
func (i *IRP) invoke(k int, r CompletionRoutine, ctx any) bool {
	var dev *Device
	if k < len(i.stack) {
		dev = i.stack[k].device
	}
	if r(dev, i, ctx) == MoreProcessingRequired {
		return false // touch nothing: the IRP may be freed or reused already
	}
	c := i.word()
	if w := c.w.Load(); stateOf(w) != stateCompleted || !c.w.CompareAndSwap(w, withState(w, stateCompleting)) {
		// The routine gave the IRP away yet asked to continue; stop safely.
		report(vUseAfterFree, "completion routine released the IRP but returned ContinueCompletion")
		return false
	}
	return true
}

// walk runs the routines from the current location upward. It owns the IRP (state
// Completing) on entry. Nothing else writes the state word while it is Completing, so the
// hand-overs below are plain stores of the loaded word with a new state.
func (i *IRP) walk() {
	c, n := i.word(), len(i.stack)
	for k := i.current; k <= n; k = i.current {
		run := i.runs(&i.stack[k-1])
		r, ctx, dev := i.finish(k)
		if dev != nil && i.HeldExclusively(dev) {
			// The exclusive holder is done with the IRP: release the claim before the
			// routine above runs, because that routine may resubmit it at once.
			i.exclusive.Store(nil)
		}
		if !run {
			if i.pendingReturned && k < n {
				i.stack[k].pending = true // as if IoMarkIrpPending had been called above
			}
			continue
		}
		// Hand ownership to the routine: it may Free, Reuse or re-complete the IRP.
		c.w.Store(withState(c.w.Load(), stateCompleted))
		if !i.invoke(k, r, ctx) {
			return
		}
	}
	c.w.Store(withState(c.w.Load(), stateCompleted))
}
