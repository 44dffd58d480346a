package irp_test

import (
	"fmt"

	"github.com/gowsk/gowsk/irp"
)

// Example shows the lifecycle of an IRP the caller allocated: allocate, set a
// completion routine that returns MoreProcessingRequired, hand it to the callee,
// which completes it, then free it.
func Example() {
	i := irp.Allocate(1)
	i.SetCompletionRoutine(func(dev *irp.Device, ir *irp.IRP, ctx any) irp.Status {
		fmt.Println("routine:", ctx, ir.IoStatus.Status, ir.IoStatus.Information, dev == nil)
		return irp.MoreProcessingRequired // we own the IRP again
	}, "send#1", irp.InvokeAlways)

	// The callee (a provider) takes the next location and completes the request.
	i.Enter(&irp.Device{Name: "provider"})
	i.Complete(irp.Success, 512)

	fmt.Println("after:", i.IoStatus.Status, i.CurrentLocation() == i.StackCount()+1)
	i.Free()
	// Output:
	// routine: send#1 STATUS_SUCCESS 512 true
	// after: STATUS_SUCCESS true
}

// Example_cancel shows cancellation: the provider installs a cancel routine while
// the IRP is queued; Cancel takes it and the routine completes with STATUS_CANCELLED.
func Example_cancel() {
	i := irp.Allocate(1)
	i.SetCompletionRoutine(func(_ *irp.Device, ir *irp.IRP, _ any) irp.Status {
		fmt.Println("completed:", ir.IoStatus.Status, "pending returned:", ir.PendingReturned())
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)

	i.Enter(&irp.Device{Name: "provider"})
	i.MarkPending()
	i.SetCancelRoutine(func(ir *irp.IRP) { ir.Complete(irp.Cancelled, 0) })

	fmt.Println("cancel found routine:", i.Cancel())
	fmt.Println("cancel again:", i.Cancel())
	fmt.Println("error:", i.IoStatus.Status.Err(), i.IoStatus.Status.Winsock().Error())
	i.Free()
	// Output:
	// completed: STATUS_CANCELLED pending returned: true
	// cancel found routine: true
	// cancel again: false
	// error: STATUS_CANCELLED (0xC0000120) WSA_OPERATION_ABORTED (995)
}
