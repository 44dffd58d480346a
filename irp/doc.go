// Package irp models the Windows I/O request packet as gowsk's completion object.
//
// Every asynchronous WSK call takes an *[IRP] and finishes by completing it exactly
// once. The owner allocates the IRP ([Allocate]), sets a completion routine in the next
// (lower) stack location ([IRP.SetCompletionRoutine]), and hands it to the callee, which
// enters it ([IRP.Enter], taking one location), maybe marks it pending
// ([IRP.MarkPending]), and eventually completes it ([IRP.Complete]). Completion walks the
// stack innermost-first, calling each routine whose invoke mask matches; a routine that
// returns [MoreProcessingRequired] stops the walk and takes the IRP back, to free,
// reuse or re-complete it.
//
// Section numbers (SPEC.md §4.4) cite the repository's specification; "invariant N" is
// the N-th invariant of its numbered list, SPEC.md §10.
//
// # Windows names and Go names
//
//	IoAllocateIrp(n, FALSE)          Allocate(n)
//	IoFreeIrp                        (*IRP).Free
//	IoReuseIrp(irp, status)          (*IRP).Reuse(status)
//	IoSetCompletionRoutine           (*IRP).SetCompletionRoutine(r, ctx, InvokeOnSuccess|…)
//	IoCallDriver (callee half)       (*IRP).Enter(dev); EnterExclusive(dev) at a guard that must
//	                                 catch a pending IRP sent again (0xC9 IRP_SENT_WHILE_PENDING)
//	IoMarkIrpPending                 (*IRP).MarkPending
//	Irp->PendingReturned             (*IRP).PendingReturned
//	IoCompleteRequest                (*IRP).CompleteRequest / Complete / CompleteObject
//	IoCancelIrp                      (*IRP).Cancel
//	IoSetCancelRoutine               (*IRP).SetCancelRoutine
//	Irp->Cancel                      (*IRP).Cancelled
//	IRPLOCK (SPEC.md §4.7)           CancelLock
//	IO_STATUS_BLOCK                  IoStatusBlock (Object carries result sockets)
//	NTSTATUS, NT_SUCCESS             Status, Status.IsSuccess
//	RtlNtStatusToDosError            Status.Win32
//	NtStatusToWSAError               Status.Winsock (WSAError)
//	DEVICE_OBJECT                    Device
//	Driver Verifier                  SetVerifier / GOWSK_VERIFIER=1
//
// # Stack numbering
//
// Windows numbering is kept: a fresh IRP has CurrentLocation == StackCount+1;
// SetCompletionRoutine writes location CurrentLocation-1; Enter moves down one.
// A routine receives the *Device of the location above its own, nil at the top, so
// the routine of a one-location IRP gets nil.
//
// # Ownership
//
// An IRP moves Idle → Submitted → Completing → Completed, and Freed, by CAS on one
// state word. When the first location the walk reaches runs its routine (the usual case:
// the caller's routine right above the callee), Submitted → Completed is one CAS, the
// claim of the walk and the hand-over to that routine at once.
//
// # Statistics
//
// [ReadStats] counts allocations, frees, submissions and completions without a counter
// of its own on the hot path: each IRP's state word carries its share of the counts,
// changed by the same CAS as the state, and ReadStats sums the words of all IRPs (pooled
// ones included, and those sync.Pool let the collector take). The cycle allocate, set a
// routine, enter, complete, free costs four locked instructions, one per ownership change.
// See [Stats] for what one snapshot tells.
//
// # Misuse
//
// Contract violations are the model of bug checks: 0x35 NO_MORE_IRP_STACK_LOCATIONS,
// 0x44 MULTIPLE_IRP_COMPLETE_REQUESTS (completing an IRP twice), 0x48
// CANCEL_STATE_IN_COMPLETED_IRP, and verifier I/O checks (0xC9) for completing with
// STATUS_PENDING and freeing or reusing a pending IRP. In verifier mode ([SetVerifier],
// or GOWSK_VERIFIER=1 at start-up) they panic with "irp: bug check 0x.. NAME: detail".
// Otherwise they are counted and the safe action is taken (the second completion is
// ignored, reuse/free refused, Enter returns [InvalidParameter]); so that a counted
// violation is not missed, the first of each kind in the process is also logged to
// [log/slog.Default] at Warn level. The counts are in [ReadStats]().Violations by name
// and, summed, in [ViolationCount] and the wsk provider's Stats.IRPViolations.
//
// # Cancellation
//
// Cancel always sets the flag and atomically takes the cancel routine, running it
// at most once. Model decision: there is no global cancel spin lock; the routine
// runs with no lock held and the slot is exchanged under a per-IRP lock word. A
// callee dequeuing an IRP calls SetCancelRoutine(nil): a nil result means the
// cancel routine owns the IRP and the callee must not complete it. To cancel an
// IRP whose completion routine may free it, use CancelLock.
//
// # Synchronous calls
//
// Do installs a signalling routine that returns MoreProcessingRequired, runs the
// call, and waits; on context end it cancels and keeps waiting for completion.
package irp
