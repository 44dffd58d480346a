//go:build unix

package sock

import (
	"golang.org/x/sys/unix"

	"github.com/gowsk/gowsk/irp"
)

// IsAgain reports the error of a call that would have to wait (EAGAIN): the caller
// waits for readiness (and re-arms the direction, engine.FD.RearmRead/RearmWrite).
func IsAgain(err error) bool { return err == unix.EAGAIN }

// IsInProgress reports the error of a nonblocking Connect that goes on in the kernel
// (EINPROGRESS; EINTR too: the kernel keeps connecting after a signal).
func IsInProgress(err error) bool { return err == unix.EINPROGRESS || err == unix.EINTR }

// IsNotConn reports ENOTCONN: the socket has (no longer) a peer.
func IsNotConn(err error) bool { return err == unix.ENOTCONN }

// TransportDied reports errors that do not describe the connection (a reset, an abort, a
// timeout) but a descriptor that no longer works at all.
func TransportDied(err error) bool {
	switch err {
	case unix.EBADF, unix.ENOTSOCK, unix.EFAULT, unix.EINVAL:
		return true
	}
	return false
}

// AcceptRetry reports an Accept error that belongs to the connection taken (it died in
// the queue, or its network went away): the listener is fine, the next one may be taken.
func AcceptRetry(err error) bool {
	switch err {
	case unix.EINTR, unix.ECONNABORTED, unix.EPROTO, unix.ENETDOWN, unix.ENOPROTOOPT,
		unix.EHOSTDOWN, unix.EHOSTUNREACH, unix.EOPNOTSUPP, unix.ENETUNREACH:
		return true
	}
	return acceptTransient(err)
}

// IsNoResources reports running out of descriptors or memory.
func IsNoResources(err error) bool {
	switch err {
	case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
		return true
	}
	return false
}

// Status maps an error of this package's calls to the provider's status (irp.FromError
// knows the Unix errno values: ECONNRESET and EPIPE are STATUS_CONNECTION_RESET, ...).
func Status(err error) irp.Status { return irp.FromError(err) }
