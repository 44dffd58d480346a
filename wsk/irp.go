package wsk

import (
	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// enterIRP is the callee half of IoCallDriver for provider-level calls (the guard does it
// for socket calls): dispatch.EnterProvider, reporting only the status.
func enterIRP(i *irp.IRP) irp.Status {
	st, _ := dispatch.EnterProvider(i)
	return st
}

// failIRP completes an entered IRP synchronously with st and returns st (the rule of SPEC.md §2.6:
// a non-pending return equals the IRP's final status).
func failIRP(i *irp.IRP, st irp.Status) irp.Status {
	i.Complete(st, 0)
	return st
}
