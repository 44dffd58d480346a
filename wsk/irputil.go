package wsk

import (
	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// enterIRP is the callee half of IoCallDriver for provider-level calls (the guard does it
// for socket calls): it moves i into the provider's stack location. A nil IRP gives
// STATUS_INVALID_PARAMETER; an IRP without a location left is completed with Enter's
// status, as the guard does.
func enterIRP(i *irp.IRP) irp.Status {
	if i == nil {
		return irp.InvalidParameter
	}
	e, inUse := i.EnterExclusive(dispatch.ProviderDevice)
	if inUse {
		return irp.InvalidParameter // a pending IRP sent again: not ours to complete
	}
	if e != irp.Success {
		i.Complete(e, 0)
		return e
	}
	return irp.Success
}

// failIRP completes an entered IRP synchronously with st and returns st (the rule of §2.6:
// a non-pending return equals the IRP's final status).
func failIRP(i *irp.IRP, st irp.Status) irp.Status {
	i.Complete(st, 0)
	return st
}
