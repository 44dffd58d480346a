package irp

import "fmt"

// Status is an NTSTATUS value. It is not an error; use Err to get one.
//
// The top two bits are the severity (00 success, 01 informational, 10 warning,
// 11 error) and NT_SUCCESS is int32(s) >= 0, so informational statuses such as
// EventPending are successes while warnings such as BufferOverflow are not.
type Status uint32

// NTSTATUS values with their real numbers (SPEC.md §1.1 and §5.5).
const (
	Success                  Status = 0x00000000
	ContinueCompletion       Status = Success // completion-routine return: keep walking
	Pending                  Status = 0x00000103
	EventPending             Status = 0x40000013
	BufferOverflow           Status = 0x80000005
	Unsuccessful             Status = 0xC0000001 // generic failure (FromError fallback)
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

// statusNames holds the Windows spelling of every named Status.
var statusNames = map[Status]string{
	Success:                  "STATUS_SUCCESS",
	Pending:                  "STATUS_PENDING",
	EventPending:             "STATUS_EVENT_PENDING",
	BufferOverflow:           "STATUS_BUFFER_OVERFLOW",
	Unsuccessful:             "STATUS_UNSUCCESSFUL",
	NotImplemented:           "STATUS_NOT_IMPLEMENTED",
	InvalidHandle:            "STATUS_INVALID_HANDLE",
	InvalidParameter:         "STATUS_INVALID_PARAMETER",
	MoreProcessingRequired:   "STATUS_MORE_PROCESSING_REQUIRED",
	InsufficientResources:    "STATUS_INSUFFICIENT_RESOURCES",
	DeviceNotReady:           "STATUS_DEVICE_NOT_READY",
	IoTimeout:                "STATUS_IO_TIMEOUT",
	FileForcedClosed:         "STATUS_FILE_FORCED_CLOSED",
	NotSupported:             "STATUS_NOT_SUPPORTED",
	RequestNotAccepted:       "STATUS_REQUEST_NOT_ACCEPTED",
	EndOfFile:                "STATUS_END_OF_FILE",
	PipeDisconnected:         "STATUS_PIPE_DISCONNECTED",
	Cancelled:                "STATUS_CANCELLED",
	LocalDisconnect:          "STATUS_LOCAL_DISCONNECT",
	RemoteDisconnect:         "STATUS_REMOTE_DISCONNECT",
	InvalidDeviceState:       "STATUS_INVALID_DEVICE_STATE",
	ConnectionDisconnected:   "STATUS_CONNECTION_DISCONNECTED",
	ConnectionReset:          "STATUS_CONNECTION_RESET",
	DataNotAccepted:          "STATUS_DATA_NOT_ACCEPTED",
	ConnectionRefused:        "STATUS_CONNECTION_REFUSED",
	GracefulDisconnect:       "STATUS_GRACEFUL_DISCONNECT",
	RequestAborted:           "STATUS_REQUEST_ABORTED",
	ConnectionAborted:        "STATUS_CONNECTION_ABORTED",
	NoMatch:                  "STATUS_NO_MATCH",
	NoInterface:              "STATUS_NOINTERFACE",
	HostUnreachable:          "STATUS_HOST_UNREACHABLE",
	NetworkUnreachable:       "STATUS_NETWORK_UNREACHABLE",
	AddressAlreadyAssociated: "STATUS_ADDRESS_ALREADY_ASSOCIATED",
}

// String returns the Windows name ("STATUS_CANCELLED"), or "STATUS_0x%08X" for a
// value this package does not name. Safe for concurrent use.
func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("STATUS_0x%08X", uint32(s))
}

// severity is the top two bits of an NTSTATUS.
func (s Status) severity() uint32 { return uint32(s) >> 30 }

// IsSuccess is NT_SUCCESS: true for success and informational statuses.
func (s Status) IsSuccess() bool { return int32(s) >= 0 }

// IsInformational reports severity 01 (NT_INFORMATION).
func (s Status) IsInformational() bool { return s.severity() == 1 }

// IsWarning reports severity 10 (NT_WARNING); warnings are not NT_SUCCESS.
func (s Status) IsWarning() bool { return s.severity() == 2 }

// IsError reports severity 11 (NT_ERROR).
func (s Status) IsError() bool { return s.severity() == 3 }

// Err returns nil for NT_SUCCESS statuses and a *StatusError otherwise. The error
// matches (errors.Is) net.ErrClosed, os.ErrDeadlineExceeded, context.Canceled,
// syscall.ECONNRESET, syscall.ECONNABORTED, syscall.ECONNREFUSED and
// errors.ErrUnsupported where the meaning matches, and always its own WSAError.
func (s Status) Err() error {
	if s.IsSuccess() {
		return nil
	}
	return &StatusError{Status: s}
}
