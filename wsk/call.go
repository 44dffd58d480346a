package wsk

import (
	"context"

	"github.com/gowsk/gowsk/irp"
)

// Call is the synchronous form of any WSK call for Go code: it allocates an IRP of
// stackSize locations (use Socket.StackSize() for a socket call, 1 for a provider-level
// call), runs fn with it through irp.Do, waits for the completion and frees the IRP. When
// ctx ends first the IRP is cancelled and Call still waits for its completion, so the
// buffers fn lent are free again when Call returns. Safe for concurrent use; it blocks,
// so never call it from a completion routine or callback (use the asynchronous form).
func Call(ctx context.Context, stackSize int, fn func(*irp.IRP) irp.Status) irp.IoStatusBlock {
	i := irp.Allocate(stackSize)
	io := irp.Do(ctx, i, fn)
	i.Free()
	return io
}
