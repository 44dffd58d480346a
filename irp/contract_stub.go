package irp

// CONTRACT STUB — written by the lead to pin the exported API that dispatch/ and wsk/
// are coded against while irp/ is being implemented. The irp implementer replaces this
// file with real code (split into small files) and deletes it. Signatures below are
// the contract: keep them (adding more API is fine; changing these needs the lead).

import (
	"context"
)

// Status is an NTSTATUS value. It is not an error; use Err to get one.
type Status uint32

// NTSTATUS values with their real numbers (reference §1.1 and §5.5).
const (
	Success                  Status = 0x00000000
	ContinueCompletion       Status = Success // completion-routine return: keep walking
	Pending                  Status = 0x00000103
	EventPending             Status = 0x40000013
	BufferOverflow           Status = 0x80000005
	NotImplemented           Status = 0xC0000002
	InvalidHandle            Status = 0xC0000008
	InvalidParameter         Status = 0xC000000D
	MoreProcessingRequired   Status = 0xC0000016
	InsufficientResources    Status = 0xC000009A
	DeviceNotReady           Status = 0xC00000A3
	IoTimeout                Status = 0xC00000B5
	FileForcedClosed         Status = 0xC00000B6
	NotSupported             Status = 0xC00000BB
	RequestNotAccepted       Status = 0xC00000D0
	EndOfFile                Status = 0xC0000011
	PipeDisconnected         Status = 0xC00000B0
	Cancelled                Status = 0xC0000120
	LocalDisconnect          Status = 0xC000013B
	RemoteDisconnect         Status = 0xC000013C
	InvalidDeviceState       Status = 0xC0000184
	ConnectionDisconnected   Status = 0xC000020C
	ConnectionReset          Status = 0xC000020D
	DataNotAccepted          Status = 0xC000021B
	ConnectionRefused        Status = 0xC0000236
	GracefulDisconnect       Status = 0xC0000237
	RequestAborted           Status = 0xC0000240
	ConnectionAborted        Status = 0xC0000241
	NoMatch                  Status = 0xC0000272
	NoInterface              Status = 0xC00002B9
	HostUnreachable          Status = 0xC000023D
	NetworkUnreachable       Status = 0xC000023C
	AddressAlreadyAssociated Status = 0xC0000328 // EADDRINUSE analogue
)

func (s Status) String() string        { panic("stub") }
func (s Status) IsSuccess() bool       { return int32(s) >= 0 }
func (s Status) IsInformational() bool { panic("stub") }
func (s Status) IsWarning() bool       { panic("stub") }
func (s Status) IsError() bool         { panic("stub") }

// Winsock returns the WSAGetLastError code for s (reference §5.5, Winsock column).
func (s Status) Winsock() WSAError { panic("stub") }

// Win32 returns the RtlNtStatusToDosError code for s (reference §5.5, Win32 column).
func (s Status) Win32() uint32 { panic("stub") }

// Err returns nil for NT_SUCCESS statuses and a *StatusError otherwise. The error
// matches (errors.Is) net.ErrClosed, os.ErrDeadlineExceeded, context.Canceled,
// syscall.ECONNRESET, syscall.ECONNABORTED, errors.ErrUnsupported where the meaning matches.
func (s Status) Err() error { panic("stub") }

// StatusError is the error form of a failing Status.
type StatusError struct{ Status Status }

func (e *StatusError) Error() string        { panic("stub") }
func (e *StatusError) Is(target error) bool { panic("stub") }
func (e *StatusError) Unwrap() error        { panic("stub") }

// FromError maps a Go / syscall error to the closest Status (ECONNRESET → ConnectionReset,
// ECONNREFUSED → ConnectionRefused, EPIPE → ConnectionReset, ETIMEDOUT → IoTimeout,
// os.ErrDeadlineExceeded → IoTimeout, context.Canceled → Cancelled, EADDRINUSE →
// AddressAlreadyAssociated, EINVAL → InvalidParameter, ENOBUFS/ENOMEM/EMFILE →
// InsufficientResources, ENOTCONN → InvalidDeviceState, *StatusError → its Status, …).
func FromError(err error) Status { panic("stub") }

// WSAError is a Winsock error code (reference §1.2).
type WSAError int

const (
	WSAOperationAborted WSAError = 995
	WSAIOPending        WSAError = 997
	WSAEINTR            WSAError = 10004
	WSAEINVAL           WSAError = 10022
	WSAEWOULDBLOCK      WSAError = 10035
	WSAEINPROGRESS      WSAError = 10036
	WSAENOTSOCK         WSAError = 10038
	WSAENETDOWN         WSAError = 10050
	WSAECONNABORTED     WSAError = 10053
	WSAECONNRESET       WSAError = 10054
	WSAENOBUFS          WSAError = 10055
	WSAENOTCONN         WSAError = 10057
	WSAESHUTDOWN        WSAError = 10058
	WSAETIMEDOUT        WSAError = 10060
	WSANOTINITIALISED   WSAError = 10093
	WSAEDISCON          WSAError = 10101
)

func (e WSAError) String() string { panic("stub") }
func (e WSAError) Error() string  { panic("stub") }

// Invoke selects when a completion routine runs (SL_INVOKE_ON_*).
type Invoke uint8

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

// IRP is the completion object. See the package doc for the lifecycle.
type IRP struct {
	IoStatus IoStatusBlock
	_        [0]func() // not comparable/copyable by accident
}

// Allocate is IoAllocateIrp: an IRP with stackSize locations, from a pool (0 allocs steady).
func Allocate(stackSize int) *IRP { panic("stub") }

// Free is IoFreeIrp. Freeing a pending IRP is a contract violation.
func (i *IRP) Free() { panic("stub") }

// Reuse is IoReuseIrp: resets stack, IoStatus (to status), Cancel, PendingReturned.
func (i *IRP) Reuse(status Status) { panic("stub") }

// StackCount is the number of locations; CurrentLocation follows Windows numbering
// (StackCount+1 = not yet passed to any driver).
func (i *IRP) StackCount() int      { panic("stub") }
func (i *IRP) CurrentLocation() int { panic("stub") }

// SetCompletionRoutine is IoSetCompletionRoutine: it stores r in the NEXT (lower) location.
func (i *IRP) SetCompletionRoutine(r CompletionRoutine, ctx any, when Invoke) { panic("stub") }

// Enter is the callee half of IoCallDriver: it moves the IRP into the next stack location,
// owned by dev. It returns Success, or InvalidParameter when no location is left (bug check
// 0x35 NO_MORE_IRP_STACK_LOCATIONS: panics in verifier mode, counted otherwise). The IRP is
// then "submitted" (owned by the callee) until completed.
func (i *IRP) Enter(dev *Device) Status { panic("stub") }

// MarkPending is IoMarkIrpPending on the current location. Call it before queueing.
func (i *IRP) MarkPending() { panic("stub") }

// PendingReturned reports the flag a completion routine sees.
func (i *IRP) PendingReturned() bool { panic("stub") }

// Complete sets IoStatus{status, info} and calls CompleteRequest.
func (i *IRP) Complete(status Status, info uintptr) { panic("stub") }

// CompleteObject is Complete with IoStatus.Object set (socket-producing calls).
func (i *IRP) CompleteObject(status Status, info uintptr, obj any) { panic("stub") }

// CompleteRequest is IoCompleteRequest with IoStatus already filled in.
func (i *IRP) CompleteRequest() { panic("stub") }

// Cancel is IoCancelIrp: sets the cancel flag, swaps out the cancel routine and runs it
// at most once. Returns true iff a routine was found.
func (i *IRP) Cancel() bool { panic("stub") }

// Cancelled reports the cancel flag (Irp->Cancel).
func (i *IRP) Cancelled() bool { panic("stub") }

// SetCancelRoutine is IoSetCancelRoutine: an atomic exchange; returns the previous routine,
// or nil if none was set or cancellation is under way (then the cancel routine owns the IRP).
func (i *IRP) SetCancelRoutine(r CancelRoutine) CancelRoutine { panic("stub") }

// BindContext cancels the IRP when ctx is done (context.AfterFunc). stop() returning false
// means the cancel won the race.
func (i *IRP) BindContext(ctx context.Context) (stop func() bool) { panic("stub") }

// Do runs call(i) synchronously: it installs a completion routine that signals and returns
// MoreProcessingRequired (§4.5), calls call(i), and waits for completion. If ctx ends first
// it cancels the IRP and waits for the completion anyway. It returns the final IoStatus.
// The IRP stays owned by the caller (free or reuse it afterwards).
func Do(ctx context.Context, i *IRP, call func(*IRP) Status) IoStatusBlock { panic("stub") }

// SetVerifier switches verifier mode (also on when GOWSK_VERIFIER=1 at start-up).
func SetVerifier(on bool) (old bool) { panic("stub") }
func Verifier() bool                 { panic("stub") }

// Stats is a snapshot of global IRP counters (allocated, submitted, completed, pending,
// cancelled, and violations by bug check).
type Stats struct {
	Allocated, Freed, Submitted, Completed, Pending, Cancelled uint64
	Violations                                                 map[string]uint64
}

func ReadStats() Stats { panic("stub") }
