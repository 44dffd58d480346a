package dispatch

import "github.com/gowsk/gowsk/irp"

// The guard (SPEC.md §3.2, §9, invariant 21).
//
// Socket.Dispatch is never the provider's table: it is one of the static guard tables
// below, shared by every socket of a category. Each guard member looks up the socket's
// inner table and wraps the call in the socket's rundown:
//
//	acquire ─┬─ refused ─→ Enter+Complete(InvalidHandle); return InvalidHandle
//	         └─ granted ─→ Enter(ProviderDevice); status := inner(...); Release; return status
//
// The acquire and the closing decision are one atomic step inside refcount.Rundown, so a
// call either holds a reference taken before rundown began (and close waits for it) or is
// refused: there is no window in which a call passes a "not closed" check and then
// reaches a provider that has already been told to close.

// ProviderDevice owns the stack location the guard enters when it hands an IRP to the
// socket's inner table (the provider, or the top layer stacked on it).
var ProviderDevice = &irp.Device{Name: "wsk"}

// acquireHook decides whether a call on s may go on (proceed) and whether it then holds a
// rundown reference to give back (held). The real guard is the single atomic
// rundown.Acquire, so proceed == held. Tests swap in a broken check-then-acquire that
// proceeds on a stale "not closing" check, to prove the race tests catch such a guard.
var acquireHook = func(s *Socket) (proceed, held bool) {
	ok := s.rundown.Acquire()
	return ok, ok
}

// EnterProvider is the callee half of IoCallDriver at the provider: it moves i into
// ProviderDevice's stack location. ok is false when it cannot, and st is then the status
// to return: STATUS_INVALID_PARAMETER for a nil IRP or one the provider still holds (a
// pending IRP sent again, bug check 0xC9 IRP_SENT_WHILE_PENDING; that IRP is not ours to
// complete and is left untouched), else Enter's status, with i completed with it. The
// guard enters every socket call through it; the provider uses it for provider-level calls.
func EnterProvider(i *irp.IRP) (st irp.Status, ok bool) {
	if i == nil {
		return irp.InvalidParameter, false
	}
	e, inUse := i.EnterExclusive(ProviderDevice)
	if inUse {
		return irp.InvalidParameter, false
	}
	if e != irp.Success {
		i.Complete(e, 0)
		return e, false
	}
	return irp.Success, true
}

// refuse completes i (when there is one) with st and returns st. The IRP is entered first
// so that the caller's completion routine, set on the next location, runs.
func refuse(i *irp.IRP, st irp.Status) irp.Status {
	if i == nil {
		return st
	}
	if e, ok := EnterProvider(i); !ok {
		return e
	}
	return refuseEntered(i, st)
}

// refuseEntered completes an IRP EnterProvider accepted with st and returns st.
func refuseEntered(i *irp.IRP, st irp.Status) irp.Status {
	i.Complete(st, 0)
	return st
}

// begin opens a guarded call that takes an IRP. ok is false when the call must not go on;
// st is then the status to return (the IRP, if any, is already completed with it, unless
// it is a pending IRP sent again: see EnterProvider). When ok is true the caller must call
// s.end(held).
func (s *Socket) begin(i *irp.IRP) (st irp.Status, ok, held bool) {
	// Enter first, before the rundown: a verifier panic here then leaves no reference
	// behind, and every refusal below completes an IRP that is properly entered.
	if st, ok := EnterProvider(i); !ok {
		return st, false, false
	}
	if s == nil {
		return refuseEntered(i, irp.InvalidParameter), false, false
	}
	proceed := false
	if s.basic != nil {
		proceed, held = acquireHook(s)
	}
	if !proceed {
		return refuseEntered(i, irp.InvalidHandle), false, false
	}
	return irp.Success, true, held
}

// beginNoIRP opens a guarded call without an IRP.
func (s *Socket) beginNoIRP() (st irp.Status, ok, held bool) {
	if s == nil {
		return irp.InvalidParameter, false, false
	}
	if s.basic == nil {
		return irp.InvalidHandle, false, false
	}
	proceed, held := acquireHook(s)
	if !proceed {
		return irp.InvalidHandle, false, false
	}
	return irp.Success, true, held
}

// end drops the reference taken by begin (if held). The last end after CloseSocket runs
// the provider's close on this goroutine.
func (s *Socket) end(held bool) {
	if held {
		s.rundown.Release()
	}
}

// missing completes an entered IRP whose inner member is nil.
func missing(i *irp.IRP) irp.Status {
	if i != nil {
		i.Complete(irp.NotSupported, 0)
	}
	return irp.NotSupported
}

// reserved is the guard (and layer) member for WskSendEx/WskReceiveEx: irp.NotSupported,
// the IRP completed; after CloseSocket began, irp.InvalidHandle like every other member.
func reserved(s *Socket, i *irp.IRP) irp.Status {
	if i == nil {
		return irp.InvalidParameter
	}
	if s == nil || s.basic == nil || s.closing.Load() != 0 {
		return refuse(i, irp.InvalidHandle)
	}
	return refuse(i, irp.NotSupported)
}
