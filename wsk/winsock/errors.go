package winsock

import (
	"errors"
	"net"
	"os"
	"strconv"
	"syscall"

	"github.com/gowsk/gowsk/irp"
)

// WSAError is the Winsock error code type (irp.WSAError): what WSAGetLastError would
// report. The codes irp already names are reused; the ones below are those only this
// layer returns.
type WSAError = irp.WSAError

// Winsock codes this layer returns that irp does not name (the Windows values).
const (
	WSAInvalidHandle    WSAError = 6     // WSA_INVALID_HANDLE: no such event or port
	WSAInvalidParameter WSAError = 87    // WSA_INVALID_PARAMETER
	WSAIOIncomplete     WSAError = 996   // WSA_IO_INCOMPLETE: still pending, not waiting
	WSAEFAULT           WSAError = 10014 // a nil or short buffer/pointer
	WSAEMFILE           WSAError = 10024 // the handle table is full
	WSAEALREADY         WSAError = 10037 // a nonblocking connect is already in progress
	WSAEDESTADDRREQ     WSAError = 10039 // sendto without an address on an unconnected socket
	WSAENOPROTOOPT      WSAError = 10042 // unknown option or level
	WSAEPROTONOSUPPORT  WSAError = 10043
	WSAESOCKTNOSUPPORT  WSAError = 10044
	WSAEAFNOSUPPORT     WSAError = 10047
	WSAEISCONN          WSAError = 10056
	WSAVERNOTSUPPORTED  WSAError = 10092
	WSAEPROVIDERFAILED  WSAError = 10106 // WSAEPROVIDERFAILEDINIT
)

var extraNames = map[WSAError]string{
	WSAInvalidHandle: "WSA_INVALID_HANDLE", WSAInvalidParameter: "WSA_INVALID_PARAMETER",
	WSAIOIncomplete: "WSA_IO_INCOMPLETE", WSAEFAULT: "WSAEFAULT", WSAEMFILE: "WSAEMFILE",
	WSAEALREADY: "WSAEALREADY", WSAEDESTADDRREQ: "WSAEDESTADDRREQ",
	WSAENOPROTOOPT: "WSAENOPROTOOPT", WSAEPROTONOSUPPORT: "WSAEPROTONOSUPPORT",
	WSAESOCKTNOSUPPORT: "WSAESOCKTNOSUPPORT", WSAEAFNOSUPPORT: "WSAEAFNOSUPPORT",
	WSAEISCONN: "WSAEISCONN", WSAVERNOTSUPPORTED: "WSAVERNOTSUPPORTED",
	WSAEPROVIDERFAILED: "WSAEPROVIDERFAILEDINIT",
}

// CodeName is the Winsock name of c ("WSAEWOULDBLOCK"), for every code this layer
// returns.
func CodeName(c WSAError) string {
	if n, ok := extraNames[c]; ok {
		return n
	}
	return c.String()
}

// Error is a failed Winsock call: the function (Winsock's name) and the exact code.
// errors.Is matches the code itself (a WSAError value) and, where one has the same
// meaning, a Go sentinel: syscall.ECONNRESET, ECONNABORTED, ECONNREFUSED, EAGAIN
// (WSAEWOULDBLOCK), EINVAL, ENOTCONN, EISCONN, EADDRINUSE, EMSGSIZE, ENOBUFS, EFAULT,
// ESHUTDOWN, EINTR, ETIMEDOUT and os.ErrDeadlineExceeded, net.ErrClosed for
// WSAENOTSOCK and WSA_OPERATION_ABORTED (a closed handle, an operation aborted by a
// close), errors.ErrUnsupported for the *NOSUPPORT codes.
type Error struct {
	Op   string
	Code WSAError
}

func (e *Error) Error() string {
	return e.Op + ": " + CodeName(e.Code) + " (" + strconv.Itoa(int(e.Code)) + ")"
}

// Is reports whether target is e's code or the Go sentinel of the same meaning.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case WSAError:
		return t == e.Code
	case *Error:
		return t.Code == e.Code
	}
	for _, s := range sentinels[e.Code] {
		if s == target {
			return true
		}
	}
	return false
}

var sentinels = map[WSAError][]error{
	irp.WSAECONNRESET:       {syscall.ECONNRESET},
	irp.WSAECONNABORTED:     {syscall.ECONNABORTED},
	irp.WSAECONNREFUSED:     {syscall.ECONNREFUSED},
	irp.WSAEWOULDBLOCK:      {syscall.EAGAIN},
	irp.WSAEINVAL:           {syscall.EINVAL},
	irp.WSAENOTCONN:         {syscall.ENOTCONN},
	WSAEISCONN:              {syscall.EISCONN},
	irp.WSAEADDRINUSE:       {syscall.EADDRINUSE},
	irp.WSAEMSGSIZE:         {syscall.EMSGSIZE},
	irp.WSAENOBUFS:          {syscall.ENOBUFS},
	WSAEFAULT:               {syscall.EFAULT},
	irp.WSAESHUTDOWN:        {syscall.ESHUTDOWN},
	irp.WSAEINTR:            {syscall.EINTR},
	irp.WSAETIMEDOUT:        {syscall.ETIMEDOUT, os.ErrDeadlineExceeded},
	irp.WSAENOTSOCK:         {net.ErrClosed},
	irp.WSAOperationAborted: {net.ErrClosed},
	WSAEPROTONOSUPPORT:      {errors.ErrUnsupported},
	WSAESOCKTNOSUPPORT:      {errors.ErrUnsupported},
	WSAEAFNOSUPPORT:         {errors.ErrUnsupported},
	irp.WSAEOPNOTSUPP:       {errors.ErrUnsupported},
}

// wsaErr returns nil for 0, else an *Error for op.
func wsaErr(op string, c WSAError) error {
	if c == 0 {
		return nil
	}
	return &Error{Op: op, Code: c}
}

// CodeOf returns the WSA code of err: 0 for nil, the code of an *Error or WSAError,
// the Winsock mapping of an irp status error, WSAEINVAL otherwise
// (WSAGetLastError's view of any error).
func CodeOf(err error) WSAError {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var c WSAError
	if errors.As(err, &c) {
		return c
	}
	var se *irp.StatusError
	if errors.As(err, &se) {
		return se.Status.Winsock()
	}
	return irp.WSAEINVAL
}
