package irp

import "sync/atomic"

// Invoke selects when a completion routine runs (SL_INVOKE_ON_*).
type Invoke uint8

// SL_INVOKE_ON_* bits, with their Windows values.
const (
	InvokeOnSuccess Invoke = 0x40
	InvokeOnError   Invoke = 0x80
	InvokeOnCancel  Invoke = 0x20
	InvokeAlways           = InvokeOnSuccess | InvokeOnError | InvokeOnCancel
)

// Device names a stack location's owner. The completion routine of the top location
// of a one-location IRP receives a nil *Device (invariant 20).
type Device struct{ Name string }

// CompletionRoutine is IO_COMPLETION_ROUTINE. It runs on whatever goroutine completes the
// IRP and must not block. Return MoreProcessingRequired to stop the walk (the owner then
// frees, reuses, or later re-completes the IRP); return ContinueCompletion to go on.
type CompletionRoutine func(dev *Device, i *IRP, ctx any) Status

// CancelRoutine is DRIVER_CANCEL. It runs at most once, on the goroutine that called Cancel,
// with no lock held; it must complete the IRP (Status Cancelled, Information 0) or arrange to.
type CancelRoutine func(i *IRP)

// IoStatusBlock is IO_STATUS_BLOCK. Information holds byte counts / output sizes; Object
// holds the result object for calls that produce one (WskSocket, WskAccept: the new socket),
// where Windows stores a pointer in Information.
type IoStatusBlock struct {
	Status      Status
	Information uintptr
	Object      any
}

// location is IO_STACK_LOCATION reduced to what completion needs.
type location struct {
	routine CompletionRoutine
	ctx     any
	control Invoke // SL_INVOKE_* bits
	pending bool   // SL_PENDING_RETURNED
	device  *Device
}

// IRP is the completion object. See the package doc for the lifecycle.
//
// The owner fields (stack, current, IoStatus, pendingReturned) are handed over
// with the state word (statecell.go): only the goroutine that won the last transition
// touches them. IRPs come from Allocate; a zero IRP also works, as one freshly allocated.
// cancel and the cancel-routine slot are the only fields shared between an owner and
// a concurrent Cancel.
type IRP struct {
	IoStatus IoStatusBlock
	_        [0]func() // not comparable/copyable by accident

	cell    atomic.Pointer[stateCell] // the state word; set once, see word
	stack   []location
	current int // Windows CurrentLocation: StackCount+1 down to 1

	pendingReturned bool

	// exclusive is the device that entered the IRP through EnterExclusive and has not
	// completed it yet (nil otherwise). It is the one piece of "who holds it" that a
	// non-owner may read: a resubmission of a pending IRP comes from a goroutine that
	// no longer owns the IRP, so it must be detected without touching the owner fields.
	exclusive atomic.Pointer[Device]

	cancel    atomic.Bool
	crWord    atomic.Uint32 // cancel-routine slot lock, see cancel.go
	crRoutine CancelRoutine // guarded by crWord
}

// StackCount is the number of locations. Safe to call by the current owner.
func (i *IRP) StackCount() int { return len(i.stack) }

// CurrentLocation follows Windows numbering: StackCount+1 means not yet passed to
// any driver, 1 is the lowest location. Call it as the current owner.
func (i *IRP) CurrentLocation() int {
	if i.current == 0 { // a zero IRP not used yet
		return len(i.stack) + 1
	}
	return i.current
}

// SetCompletionRoutine is IoSetCompletionRoutine: it stores r in the NEXT (lower)
// location, number CurrentLocation-1. With no lower location left it is bug check
// 0x35 NO_MORE_IRP_STACK_LOCATIONS (panic in verifier mode, counted and ignored
// otherwise). Call it as the owner, before passing the IRP down.
//
// On a freed IRP it is IRP_USED_AFTER_FREE (verifier panic, or counted) and changes nothing,
// so a pooled IRP stays clean for its next Allocate.
func (i *IRP) SetCompletionRoutine(r CompletionRoutine, ctx any, when Invoke) {
	if stateOf(i.word().w.Load()) == stateFreed {
		report(vUseAfterFree, "SetCompletionRoutine on a freed IRP")
		return
	}
	n := i.current - 1
	if n < 1 {
		report(vNoMoreStackLocations, "SetCompletionRoutine with no lower stack location")
		return
	}
	loc := &i.stack[n-1]
	loc.routine, loc.ctx, loc.control = r, ctx, when&InvokeAlways
}

// Enter is the callee half of IoCallDriver: it moves the IRP into the next stack location,
// owned by dev. It returns Success, or InvalidParameter when no location is left (bug check
// 0x35 NO_MORE_IRP_STACK_LOCATIONS: panics in verifier mode, counted otherwise). The IRP is
// then "submitted" (owned by the callee) until completed. Call it on the goroutine
// that owns the IRP (the caller handing it down).
func (i *IRP) Enter(dev *Device) Status {
	if i.current-1 < 1 {
		report(vNoMoreStackLocations, "Enter with no stack location left")
		return InvalidParameter
	}
	c := i.word()
	for {
		w := c.w.Load()
		switch stateOf(w) {
		case stateSubmitted:
			// Passed further down by a callee that already owns it.
		case stateIdle, stateCompleted:
			if w&subMask < subLimit { // submit, in line for the common case
				if !c.w.CompareAndSwap(w, withState(w, stateSubmitted)+subOne) {
					continue
				}
			} else if !c.submit(w, stateSubmitted) {
				continue
			}
		case stateFreed:
			report(vUseAfterFree, "Enter on a freed IRP")
			return InvalidParameter
		default: // stateCompleting: the walk owns it
			report(vSentWhileCompleting, "Enter while the IRP is being completed")
			return InvalidParameter
		}
		break
	}
	i.current--
	loc := &i.stack[i.current-1]
	loc.device = dev
	loc.pending = false
	return Success
}

// MarkPending is IoMarkIrpPending on the current location. Call it as the callee
// that owns the IRP, before queueing it (SPEC.md §4.5). Without a current location (the IRP
// was never passed down) it does nothing.
func (i *IRP) MarkPending() {
	if i.current >= 1 && i.current <= len(i.stack) {
		i.stack[i.current-1].pending = true
	}
}

// PendingReturned reports the flag a completion routine sees: the pending bit of
// the location whose routine is running.
func (i *IRP) PendingReturned() bool { return i.pendingReturned }

// reset restores the freshly allocated shape and drops every reference the IRP holds, so
// a pooled IRP keeps nothing alive; the stack slice is kept. Reuse calls it; Free calls
// resetOwned only, leaving the shared words to the next Allocate.
func (i *IRP) reset(status Status) {
	i.resetOwned(status)
	if i.sharedSet() {
		i.resetShared()
	}
}

// resetOwned resets the owner fields. The loop ranges over the count, not the slice, so
// the compiler does not turn it into a bulk clear, which costs more than the few words of
// a stack.
func (i *IRP) resetOwned(status Status) {
	for k := range len(i.stack) {
		i.stack[k] = location{}
	}
	i.current = len(i.stack) + 1
	i.pendingReturned = false
	i.IoStatus = IoStatusBlock{Status: status}
}

// resetShared resets the words a non-owner may write: Cancel sets the flag,
// EnterExclusive claims the holder, SetCancelRoutine the slot, and a misbehaving one can
// do so even on a freed IRP. Allocate calls it (with IoStatus reset: a stale pointer may
// have written it) rather than Free, because Free's reset cannot stop a late Cancel. Each
// store below is a locked instruction; a reset IRP rarely needs them (an IRP is cancelled
// or entered exclusively on few of its uses), so callers ask sharedSet first, and each
// word is loaded before it is stored.
func (i *IRP) resetShared() {
	if i.cancel.Load() {
		i.cancel.Store(false)
	}
	if i.crWord.Load() != 0 {
		i.takeCancelRoutine()
	}
	if i.exclusive.Load() != nil {
		i.exclusive.Store(nil)
	}
}

// sharedSet reports whether any word resetShared resets is set; loads only.
func (i *IRP) sharedSet() bool {
	return i.cancel.Load() || i.crWord.Load() != 0 || i.exclusive.Load() != nil
}
