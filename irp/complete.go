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
	switch s := i.state.Load(); {
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
	// Claim the walk. Idle counts as an implicit submission so Pending stays balanced.
	for {
		s := i.state.Load()
		switch {
		case s == stateSubmitted || s == stateIdle:
			if !i.state.CompareAndSwap(s, stateCompleting) {
				continue
			}
			if s == stateIdle {
				// Completed without Enter (e.g. a call refused before it reached the
				// provider): behave as if the callee had entered it with no device,
				// so the caller's routine in the next location still runs and a
				// waiter never hangs.
				statSubmitted.Add(1)
				if i.current > 1 {
					i.current--
				}
			}
			statCompleted.Add(1)
		case s == stateCompleted && i.current <= len(i.stack):
			if !i.state.CompareAndSwap(s, stateCompleting) {
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

// walk runs the routines from the current location upward. It owns the IRP
// (state Completing) on entry.
func (i *IRP) walk() {
	n := len(i.stack)
	for i.current <= n {
		k := i.current
		loc := i.stack[k-1]
		i.stack[k-1] = location{} // finished locations are zeroed
		if loc.device != nil && i.exclusive.Load() == loc.device {
			// The exclusive holder is done with the IRP: release the claim before the
			// routine above runs, because that routine may resubmit it at once.
			i.exclusive.Store(nil)
		}
		i.current = k + 1
		i.pendingReturned = loc.pending

		st := i.IoStatus.Status
		run := loc.routine != nil &&
			((st.IsSuccess() && loc.control&InvokeOnSuccess != 0) ||
				(!st.IsSuccess() && loc.control&InvokeOnError != 0) ||
				(i.cancel.Load() && loc.control&InvokeOnCancel != 0))
		if !run {
			if loc.pending && k+1 <= n {
				i.stack[k].pending = true // as if IoMarkIrpPending had been called above
			}
			continue
		}
		var dev *Device
		if k+1 <= n {
			dev = i.stack[k].device
		}
		// Hand ownership to the routine: it may Free, Reuse or re-complete the IRP.
		i.state.Store(stateCompleted)
		if loc.routine(dev, i, loc.ctx) == MoreProcessingRequired {
			return // touch nothing: the IRP may be freed or reused already
		}
		if !i.state.CompareAndSwap(stateCompleted, stateCompleting) {
			// The routine gave the IRP away yet asked to continue; stop safely.
			report(vUseAfterFree, "completion routine released the IRP but returned ContinueCompletion")
			return
		}
	}
	i.state.Store(stateCompleted)
}
