package irp

import "fmt"

// WSAError is a Winsock error code (SPEC.md §1.2), what WSAGetLastError reports.
type WSAError int

// Winsock error codes used by the SPEC.md §5.5 mapping.
const (
	WSAOperationAborted WSAError = 995
	WSAIOPending        WSAError = 997
	WSAEINTR            WSAError = 10004
	WSAEINVAL           WSAError = 10022
	WSAEWOULDBLOCK      WSAError = 10035
	WSAEINPROGRESS      WSAError = 10036
	WSAENOTSOCK         WSAError = 10038
	WSAEMSGSIZE         WSAError = 10040
	WSAEOPNOTSUPP       WSAError = 10045
	WSAEADDRINUSE       WSAError = 10048
	WSAENETDOWN         WSAError = 10050
	WSAENETUNREACH      WSAError = 10051
	WSAECONNABORTED     WSAError = 10053
	WSAECONNRESET       WSAError = 10054
	WSAENOBUFS          WSAError = 10055
	WSAENOTCONN         WSAError = 10057
	WSAESHUTDOWN        WSAError = 10058
	WSAETIMEDOUT        WSAError = 10060
	WSAECONNREFUSED     WSAError = 10061
	WSAEHOSTUNREACH     WSAError = 10065
	WSANOTINITIALISED   WSAError = 10093
	WSAEDISCON          WSAError = 10101
)

var wsaNames = map[WSAError]string{
	0:                   "NO_ERROR",
	WSAOperationAborted: "WSA_OPERATION_ABORTED",
	WSAIOPending:        "WSA_IO_PENDING",
	WSAEINTR:            "WSAEINTR",
	WSAEINVAL:           "WSAEINVAL",
	WSAEWOULDBLOCK:      "WSAEWOULDBLOCK",
	WSAEINPROGRESS:      "WSAEINPROGRESS",
	WSAENOTSOCK:         "WSAENOTSOCK",
	WSAEMSGSIZE:         "WSAEMSGSIZE",
	WSAEOPNOTSUPP:       "WSAEOPNOTSUPP",
	WSAEADDRINUSE:       "WSAEADDRINUSE",
	WSAENETDOWN:         "WSAENETDOWN",
	WSAENETUNREACH:      "WSAENETUNREACH",
	WSAECONNABORTED:     "WSAECONNABORTED",
	WSAECONNRESET:       "WSAECONNRESET",
	WSAENOBUFS:          "WSAENOBUFS",
	WSAENOTCONN:         "WSAENOTCONN",
	WSAESHUTDOWN:        "WSAESHUTDOWN",
	WSAETIMEDOUT:        "WSAETIMEDOUT",
	WSAECONNREFUSED:     "WSAECONNREFUSED",
	WSAEHOSTUNREACH:     "WSAEHOSTUNREACH",
	WSANOTINITIALISED:   "WSANOTINITIALISED",
	WSAEDISCON:          "WSAEDISCON",
}

// String returns the Winsock name ("WSAECONNRESET"), or "WSA_<n>" when unnamed.
func (e WSAError) String() string {
	if n, ok := wsaNames[e]; ok {
		return n
	}
	return fmt.Sprintf("WSA_%d", int(e))
}

// Error formats the code with its number, e.g. "WSAECONNRESET (10054)".
func (e WSAError) Error() string { return fmt.Sprintf("%s (%d)", e.String(), int(e)) }

// Winsock returns the WSAGetLastError code for s (SPEC.md §5.5, Winsock column,
// i.e. AFD's / Wine's NtStatusToWSAError, not RtlNtStatusToDosError). Successes map
// to 0, PENDING to WSA_IO_PENDING, and unlisted failures to WSAEINVAL (Wine's fallback).
func (s Status) Winsock() WSAError {
	switch s {
	case Pending:
		return WSAIOPending
	case Cancelled:
		return WSAOperationAborted
	case ConnectionReset, RemoteDisconnect, ConnectionDisconnected:
		return WSAECONNRESET
	case ConnectionAborted, LocalDisconnect:
		return WSAECONNABORTED
	case InvalidHandle:
		return WSAENOTSOCK
	case IoTimeout:
		return WSAETIMEDOUT
	case GracefulDisconnect:
		return WSAEDISCON
	case InsufficientResources:
		return WSAENOBUFS
	case DeviceNotReady, RequestNotAccepted:
		return WSAEWOULDBLOCK
	case RequestAborted:
		return WSAEINTR
	case PipeDisconnected, EndOfFile:
		return WSAESHUTDOWN
	case ConnectionRefused:
		return WSAECONNREFUSED
	case NetworkUnreachable:
		return WSAENETUNREACH
	case HostUnreachable:
		return WSAEHOSTUNREACH
	case AddressAlreadyAssociated:
		return WSAEADDRINUSE
	case NotSupported:
		return WSAEOPNOTSUPP
	case BufferOverflow:
		return WSAEMSGSIZE
	}
	if s.IsSuccess() {
		return 0
	}
	return WSAEINVAL
}

// Win32 error numbers returned by Win32 (RtlNtStatusToDosError).
const (
	errorMrMidNotFound = 317 // what Windows returns for an NTSTATUS it cannot map
)

// Win32 returns the RtlNtStatusToDosError code for s (SPEC.md §5.5, Win32 column).
// Note CONNECTION_RESET → ERROR_NETNAME_DELETED (64), not WSAECONNRESET: the two
// translations differ and callers must not mix them. Unmapped values give
// ERROR_MR_MID_NOT_FOUND (317), as Windows does.
func (s Status) Win32() uint32 {
	switch s {
	case Success:
		return 0
	case Pending:
		return 997 // ERROR_IO_PENDING
	case Cancelled:
		return 995 // ERROR_OPERATION_ABORTED
	case MoreProcessingRequired, BufferOverflow:
		return 234 // ERROR_MORE_DATA
	case InvalidDeviceState:
		return 22 // ERROR_BAD_COMMAND
	case ConnectionReset, ConnectionDisconnected, LocalDisconnect, RemoteDisconnect:
		return 64 // ERROR_NETNAME_DELETED
	case ConnectionAborted:
		return 1236 // ERROR_CONNECTION_ABORTED
	case InsufficientResources:
		return 1450 // ERROR_NO_SYSTEM_RESOURCES
	case InvalidHandle:
		return 6 // ERROR_INVALID_HANDLE
	case InvalidParameter:
		return 87 // ERROR_INVALID_PARAMETER
	case FileForcedClosed, EndOfFile:
		return 38 // ERROR_HANDLE_EOF
	case GracefulDisconnect:
		return 1226 // ERROR_GRACEFUL_DISCONNECT
	case IoTimeout:
		return 121 // ERROR_SEM_TIMEOUT
	case RequestAborted:
		return 1235 // ERROR_REQUEST_ABORTED
	case NotImplemented:
		return 1 // ERROR_INVALID_FUNCTION
	case NotSupported:
		return 50 // ERROR_NOT_SUPPORTED
	case DeviceNotReady:
		return 21 // ERROR_NOT_READY
	case ConnectionRefused:
		return 1225 // ERROR_CONNECTION_REFUSED
	case NetworkUnreachable:
		return 1231 // ERROR_NETWORK_UNREACHABLE
	case HostUnreachable:
		return 1232 // ERROR_HOST_UNREACHABLE
	case AddressAlreadyAssociated:
		return 1227 // ERROR_ADDRESS_ALREADY_ASSOCIATED
	case PipeDisconnected:
		return 233 // ERROR_PIPE_NOT_CONNECTED
	case Unsuccessful:
		return 31 // ERROR_GEN_FAILURE
	}
	return errorMrMidNotFound
}
