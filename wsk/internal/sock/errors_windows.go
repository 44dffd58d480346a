//go:build windows

package sock

import (
	"syscall"

	"golang.org/x/sys/windows"

	"github.com/gowsk/gowsk/irp"
)

// IsAgain reports the error of a call that would have to wait (WSAEWOULDBLOCK, Unix's
// EAGAIN): the caller waits for readiness (and re-arms the direction,
// engine.FD.RearmRead/RearmWrite).
func IsAgain(err error) bool { return err == windows.WSAEWOULDBLOCK }

// IsInProgress reports the error of a nonblocking Connect that goes on (WSAEWOULDBLOCK;
// WSAEINPROGRESS on old stacks).
func IsInProgress(err error) bool {
	return err == windows.WSAEWOULDBLOCK || err == windows.WSAEINPROGRESS
}

// IsNotConn reports WSAENOTCONN: the socket has (no longer) a peer.
func IsNotConn(err error) bool { return err == windows.WSAENOTCONN }

// TransportDied reports errors that do not describe the connection (a reset, an abort, a
// timeout) but a handle that no longer works at all.
func TransportDied(err error) bool {
	switch err {
	case windows.WSAENOTSOCK, windows.WSAEBADF, windows.WSAEFAULT, windows.WSAEINVAL, windows.ERROR_INVALID_HANDLE:
		return true
	}
	return false
}

// AcceptRetry reports an Accept error that belongs to the connection taken (reset by
// its peer before it was taken, or its network went away): the listener is fine, the
// next one may be taken.
func AcceptRetry(err error) bool {
	switch err {
	case windows.WSAECONNRESET, windows.WSAECONNABORTED, windows.WSAEINTR, windows.WSAENETDOWN,
		windows.WSAEHOSTDOWN, windows.WSAEHOSTUNREACH, windows.WSAENETUNREACH:
		return true
	}
	return false
}

// IsNoResources reports running out of sockets or memory.
func IsNoResources(err error) bool {
	switch err {
	case windows.WSAEMFILE, windows.WSAENOBUFS, windows.ERROR_NOT_ENOUGH_MEMORY:
		return true
	}
	return false
}

// Status maps an error of this package's calls to the provider's status: the Winsock
// code is first translated to the syscall package's Errno of the same meaning (Go names
// them after Unix on Windows too: syscall.ECONNRESET is not WSAECONNRESET there), which
// irp.FromError maps as on Unix. So the same condition gives the same status on every
// OS, and Status(err).Err() matches syscall.ECONNRESET where the OS said WSAECONNRESET.
func Status(err error) irp.Status {
	if e, ok := err.(syscall.Errno); ok {
		if u, ok := unixErrno(e); ok {
			return irp.FromError(u)
		}
	}
	return irp.FromError(err)
}

// unixErrno is the syscall package's Unix-named Errno for a Winsock code.
func unixErrno(e syscall.Errno) (syscall.Errno, bool) {
	switch e {
	case windows.WSAEWOULDBLOCK:
		return syscall.EAGAIN, true
	case windows.WSAEINTR:
		return syscall.EINTR, true
	case windows.WSAEINPROGRESS:
		return syscall.EINPROGRESS, true
	case windows.WSAEALREADY:
		return syscall.EALREADY, true
	case windows.WSAECONNRESET, windows.WSAENETRESET:
		return syscall.ECONNRESET, true
	case windows.WSAECONNABORTED:
		return syscall.ECONNABORTED, true
	case windows.WSAECONNREFUSED:
		return syscall.ECONNREFUSED, true
	case windows.WSAETIMEDOUT:
		return syscall.ETIMEDOUT, true
	case windows.WSAEADDRINUSE:
		return syscall.EADDRINUSE, true
	case windows.WSAEADDRNOTAVAIL:
		return syscall.EADDRNOTAVAIL, true
	case windows.WSAEAFNOSUPPORT:
		return syscall.EAFNOSUPPORT, true
	case windows.WSAEINVAL:
		return syscall.EINVAL, true
	case windows.WSAEFAULT:
		return syscall.EFAULT, true
	case windows.WSAENOBUFS:
		return syscall.ENOBUFS, true
	case windows.WSAEMFILE:
		return syscall.EMFILE, true
	case windows.WSAENOTCONN:
		return syscall.ENOTCONN, true
	case windows.WSAEISCONN:
		return syscall.EISCONN, true
	case windows.WSAENOTSOCK:
		return syscall.ENOTSOCK, true
	case windows.WSAEBADF:
		return syscall.EBADF, true
	case windows.WSAENETUNREACH:
		return syscall.ENETUNREACH, true
	case windows.WSAENETDOWN:
		return syscall.ENETDOWN, true
	case windows.WSAEHOSTUNREACH:
		return syscall.EHOSTUNREACH, true
	case windows.WSAEHOSTDOWN:
		return syscall.EHOSTDOWN, true
	case windows.WSAEOPNOTSUPP:
		return syscall.EOPNOTSUPP, true
	case windows.WSAENOPROTOOPT:
		return syscall.ENOPROTOOPT, true
	case windows.WSAESHUTDOWN:
		return syscall.ESHUTDOWN, true
	case windows.WSAEMSGSIZE:
		return syscall.EMSGSIZE, true
	case windows.WSAEACCES:
		return syscall.EACCES, true
	}
	return 0, false
}
