// Command closeserver is gowsk's guided tour of the close protocol.
//
// This first version tours the foundation that every socket close is built from: the
// completion object (package irp) and the rundown guard (package refcount). The socket
// server, with a real peer observing FIN versus RST, arrives with the provider (package wsk).
//
//	go run ./examples/closeserver
package main

import (
	"fmt"
	"os"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/refcount"
)

func main() {
	step1IRPLifecycle()
	step2Cancellation()
	step3RundownAroundClose()
	fmt.Println("tour complete")
	os.Exit(0)
}

// provider is the device a call enters; it stands in for the WSK provider.
var provider = &irp.Device{Name: "provider"}

func step1IRPLifecycle() {
	fmt.Println("== 1. IRP lifecycle: allocate, call, complete, free")
	i := irp.Allocate(1)
	i.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		fmt.Printf("   completion routine: status=%v information=%d pendingReturned=%v\n",
			i.IoStatus.Status, i.IoStatus.Information, i.PendingReturned())
		// The IRP is ours (we allocated it): stop the walk and keep ownership.
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)

	// The "provider" cannot finish at once: it marks the IRP pending and returns Pending.
	i.Enter(provider)
	i.MarkPending()
	fmt.Println("   call returned:", irp.Pending)

	// Later, the provider completes it; the routine runs exactly once.
	i.Complete(irp.Success, 5)
	i.Free()
}

func step2Cancellation() {
	fmt.Println("== 2. Cancellation: the cancel routine completes the IRP with STATUS_CANCELLED")
	i := irp.Allocate(1)
	i.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		fmt.Printf("   completion routine: status=%v (%d), winsock=%d\n",
			i.IoStatus.Status, i.IoStatus.Information, i.IoStatus.Status.Winsock())
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	i.Enter(provider)
	i.MarkPending()
	i.SetCancelRoutine(func(i *irp.IRP) {
		fmt.Println("   cancel routine runs (once)")
		i.Complete(irp.Cancelled, 0)
	})
	fmt.Println("   Cancel found a routine:", i.Cancel())
	fmt.Println("   a second Cancel finds none:", i.Cancel())
	i.Free()
}

func step3RundownAroundClose() {
	fmt.Println("== 3. Rundown around close: calls in flight finish first, later calls are refused")
	var r refcount.Rundown
	fmt.Println("   a call enters (Acquire):", r.Acquire())
	r.WaitFunc(func() { fmt.Println("   close continues: no call in flight any more") })
	fmt.Println("   close began; a new call is refused (Acquire):", r.Acquire())
	fmt.Println("   the call in flight returns (Release)")
	r.Release()
}
