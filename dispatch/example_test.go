package dispatch_test

import (
	"fmt"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// The rundown around close, through the guard: a completion routine closes the socket
// while its Send is still inside the guard. Close returns Pending at once; the provider's
// close runs when the Send releases its reference; afterwards calls are refused.
func Example_closeRundown() {
	provider := &dispatch.ConnectionDispatch{
		BasicDispatch: dispatch.BasicDispatch{
			CloseSocket: func(s *dispatch.Socket, i *irp.IRP) irp.Status {
				fmt.Println("provider: close")
				i.Complete(irp.Success, 0)
				return irp.Success
			},
		},
		Send: func(s *dispatch.Socket, b *dispatch.Buf, _ dispatch.Flags, i *irp.IRP) irp.Status {
			fmt.Println("provider: send", b.Length, "bytes")
			i.Complete(irp.Success, uintptr(b.Length))
			return irp.Success
		},
	}
	s := dispatch.NewSocket(provider, nil)

	closeIRP := irp.Allocate(s.StackSize())
	closeIRP.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		fmt.Println("close completed:", i.IoStatus.Status)
		return irp.ContinueCompletion
	}, nil, irp.InvokeAlways)

	send := irp.Allocate(s.StackSize())
	send.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		fmt.Println("send completed:", i.IoStatus.Status)
		fmt.Println("close from the routine:", s.Basic().CloseSocket(s, closeIRP))
		return irp.ContinueCompletion
	}, nil, irp.InvokeAlways)

	b := dispatch.MakeBuf([]byte("hello"))
	fmt.Println("send returned:", s.Connection().Send(s, &b, 0, send))

	late := irp.Allocate(s.StackSize())
	fmt.Println("send after close:", s.Connection().Send(s, &b, 0, late))

	send.Free()
	closeIRP.Free()
	late.Free()
	// Output:
	// provider: send 5 bytes
	// send completed: STATUS_SUCCESS
	// close from the routine: STATUS_PENDING
	// provider: close
	// close completed: STATUS_SUCCESS
	// send returned: STATUS_SUCCESS
	// send after close: STATUS_INVALID_HANDLE
}

// A Counter layer over a provider's connection table. Layer takes and returns the same
// table type, so the layered table goes wherever the provider's would; each layer adds one
// IRP stack location, which the socket reports.
func ExampleLayer() {
	provider := &dispatch.ConnectionDispatch{
		Send: func(s *dispatch.Socket, b *dispatch.Buf, _ dispatch.Flags, i *irp.IRP) irp.Status {
			i.Complete(irp.Success, uintptr(b.Length))
			return irp.Success
		},
	}
	var c dispatch.Counter
	layered := dispatch.Layer(provider, &c, &irp.Device{Name: "counter"}) // a *ConnectionDispatch
	s := dispatch.NewSocket(layered, nil)
	fmt.Println("stack locations:", s.StackSize())

	b := dispatch.MakeBuf([]byte("hello"))
	for range 2 {
		i := irp.Allocate(s.StackSize())
		fmt.Println("send:", s.Connection().Send(s, &b, 0, i))
		i.Free()
	}
	snap := c.Snapshot()
	fmt.Println("sends seen:", snap.Calls[dispatch.MemberSend], "completed:", snap.Completions[dispatch.MemberSend])
	// Output:
	// stack locations: 2
	// send: STATUS_SUCCESS
	// send: STATUS_SUCCESS
	// sends seen: 2 completed: 2
}
