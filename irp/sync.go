package irp

import "context"

// BindContext cancels the IRP when ctx is done (context.AfterFunc). stop() returning
// false means the cancel won the race (it ran or is running); true means it will
// never run. Call stop before freeing the IRP; if it returns false, the IRP must not
// be freed before the cancel has returned (use a CancelLock or Do).
func (i *IRP) BindContext(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() { i.Cancel() })
}

// Do runs call(i) synchronously: it installs a completion routine that signals and returns
// MoreProcessingRequired (SPEC.md §4.5), calls call(i), and waits for completion. If ctx ends first
// it cancels the IRP and waits for the completion anyway. It returns the final IoStatus.
// The IRP stays owned by the caller (free or reuse it afterwards).
//
// The routine signals unconditionally, not only when PendingReturned, so a callee
// that completes without marking pending cannot hang the caller. If call returns a
// status other than Pending without having completed the IRP (a contract breach),
// Do reports IRP_NOT_COMPLETED_ON_SYNC_RETURN and returns that status without waiting.
// With no stack location left it returns InvalidParameter at once.
func Do(ctx context.Context, i *IRP, call func(*IRP) Status) IoStatusBlock {
	if i.current-1 < 1 {
		report(vNoMoreStackLocations, "Do on an IRP with no stack location left")
		return IoStatusBlock{Status: InvalidParameter}
	}
	done := make(chan struct{})
	i.SetCompletionRoutine(func(*Device, *IRP, any) Status {
		close(done)
		return MoreProcessingRequired
	}, nil, InvokeAlways)
	st := call(i)
	if st != Pending {
		select {
		case <-done:
			return i.IoStatus
		default:
			report(vReturnWithoutCompletion, "call returned "+st.String()+" without completing the IRP")
			return IoStatusBlock{Status: st}
		}
	}
	select {
	case <-done:
	case <-ctx.Done():
		i.Cancel()
		<-done
	}
	return i.IoStatus
}
