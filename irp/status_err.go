package irp

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// StatusError is the error form of a failing Status.
type StatusError struct{ Status Status }

// Error returns e.g. "STATUS_CONNECTION_RESET (0xC000020D)".
func (e *StatusError) Error() string {
	return e.Status.String() + " (0x" + hex32(uint32(e.Status)) + ")"
}

func hex32(v uint32) string {
	const digits = "0123456789ABCDEF"
	var b [8]byte
	for k := 7; k >= 0; k-- {
		b[k] = digits[v&0xF]
		v >>= 4
	}
	return string(b[:])
}

// sentinel is the Go error with the same meaning as s, or nil.
func (s Status) sentinel() error {
	switch s {
	case InvalidHandle, FileForcedClosed:
		return net.ErrClosed
	case IoTimeout:
		return os.ErrDeadlineExceeded
	case Cancelled:
		return context.Canceled
	case ConnectionReset, RemoteDisconnect, ConnectionDisconnected:
		return syscall.ECONNRESET
	case ConnectionAborted, LocalDisconnect:
		return syscall.ECONNABORTED
	case ConnectionRefused:
		return syscall.ECONNREFUSED
	case NotSupported, NotImplemented:
		return errors.ErrUnsupported
	}
	return nil
}

// Is matches the Go sentinel of the same meaning (see Status.Err), another
// *StatusError with the same Status, and the Status's WSAError.
func (e *StatusError) Is(target error) bool {
	switch t := target.(type) {
	case *StatusError:
		return t != nil && t.Status == e.Status
	case WSAError:
		return t == e.Status.Winsock()
	case syscall.Errno:
		// On Windows the OS reports Winsock codes as Errnos (windows.WSAECONNRESET is
		// syscall.Errno(10054)), and syscall.ECONNRESET is another number there.
		if w, ok := wsaOfErrno(t); ok {
			return w == e.Status.Winsock()
		}
	}
	if s := e.Status.sentinel(); s != nil && target == s {
		return true
	}
	return false
}

// Unwrap returns the Go sentinel with the same meaning, or nil.
func (e *StatusError) Unwrap() error { return e.Status.sentinel() }

// FromError maps a Go / syscall error to the closest Status (ECONNRESET → ConnectionReset,
// ECONNREFUSED → ConnectionRefused, EPIPE → ConnectionReset, ETIMEDOUT → IoTimeout,
// os.ErrDeadlineExceeded → IoTimeout, context.Canceled → Cancelled, EADDRINUSE →
// AddressAlreadyAssociated, EINVAL → InvalidParameter, ENOBUFS/ENOMEM/EMFILE →
// InsufficientResources, ENOTCONN → InvalidDeviceState, *StatusError → its Status, a
// WSAError or a Windows Errno holding a Winsock code → that code's Status, …).
// nil maps to Success and anything unrecognised to Unsuccessful.
func FromError(err error) Status {
	if err == nil {
		return Success
	}
	var se *StatusError
	if errors.As(err, &se) && se != nil {
		return se.Status
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if s, ok := fromErrno(errno); ok {
			return s
		}
		if w, ok := wsaOfErrno(errno); ok {
			if s, ok := fromWSA(w); ok {
				return s
			}
		}
	}
	var wsa WSAError
	if errors.As(err, &wsa) {
		if s, ok := fromWSA(wsa); ok {
			return s
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Cancelled
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return IoTimeout
	case errors.Is(err, net.ErrClosed), errors.Is(err, os.ErrClosed):
		return InvalidHandle
	case errors.Is(err, errors.ErrUnsupported):
		return NotSupported
	case errors.Is(err, io.EOF):
		return EndOfFile
	}
	return Unsuccessful
}

// wsaOfErrno reads e as a Winsock code when it is in Winsock's ranges: WSABASEERR (10000)
// to 11999, and the two overlapped-I/O codes WSA_OPERATION_ABORTED (995) and
// WSA_IO_PENDING (997). Windows hands them to Go as syscall.Errno; no Unix errno is that
// large, so the same reading is safe on every OS.
func wsaOfErrno(e syscall.Errno) (WSAError, bool) {
	if (e >= 10000 && e < 12000) || e == syscall.Errno(WSAOperationAborted) || e == syscall.Errno(WSAIOPending) {
		return WSAError(e), true
	}
	return 0, false
}

func fromErrno(e syscall.Errno) (Status, bool) {
	switch e {
	case 0:
		return Success, true
	case syscall.ECONNRESET, syscall.EPIPE:
		return ConnectionReset, true
	case syscall.ECONNREFUSED:
		return ConnectionRefused, true
	case syscall.ECONNABORTED:
		return ConnectionAborted, true
	case syscall.ETIMEDOUT:
		return IoTimeout, true
	case syscall.EADDRINUSE:
		return AddressAlreadyAssociated, true
	case syscall.EINVAL:
		return InvalidParameter, true
	case syscall.ENOBUFS, syscall.ENOMEM, syscall.EMFILE, syscall.ENFILE:
		return InsufficientResources, true
	case syscall.ENOTCONN:
		return InvalidDeviceState, true
	case syscall.EBADF, syscall.ENOTSOCK:
		return InvalidHandle, true
	case syscall.ENETUNREACH, syscall.ENETDOWN:
		return NetworkUnreachable, true
	case syscall.EHOSTUNREACH:
		return HostUnreachable, true
	case syscall.EAGAIN:
		return DeviceNotReady, true
	case syscall.EINTR:
		return RequestAborted, true
	case syscall.ENOSYS, syscall.EOPNOTSUPP:
		return NotSupported, true
	case syscall.ESHUTDOWN:
		return PipeDisconnected, true
	case syscall.ECANCELED:
		return Cancelled, true
	}
	return 0, false
}

func fromWSA(e WSAError) (Status, bool) {
	switch e {
	case 0:
		return Success, true
	case WSAOperationAborted:
		return Cancelled, true
	case WSAIOPending:
		return Pending, true
	case WSAECONNRESET:
		return ConnectionReset, true
	case WSAECONNABORTED:
		return ConnectionAborted, true
	case WSAENOTSOCK:
		return InvalidHandle, true
	case WSAETIMEDOUT:
		return IoTimeout, true
	case WSAEDISCON:
		return GracefulDisconnect, true
	case WSAENOBUFS:
		return InsufficientResources, true
	case WSAEWOULDBLOCK:
		return DeviceNotReady, true
	case WSAEINVAL:
		return InvalidParameter, true
	case WSAECONNREFUSED:
		return ConnectionRefused, true
	case WSAEADDRINUSE:
		return AddressAlreadyAssociated, true
	case WSAENOTCONN:
		return InvalidDeviceState, true
	case WSAEINTR:
		return RequestAborted, true
	case WSAESHUTDOWN:
		return PipeDisconnected, true
	case WSAENETDOWN, WSAENETUNREACH:
		return NetworkUnreachable, true
	case WSAEHOSTUNREACH:
		return HostUnreachable, true
	case WSAEOPNOTSUPP:
		return NotSupported, true
	}
	return 0, false
}
