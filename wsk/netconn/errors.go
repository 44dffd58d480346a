package netconn

import (
	"net"
	"os"
	"syscall"

	"github.com/gowsk/gowsk/irp"
)

// statusErr maps the final status of a request to the error net users test for:
//
//	STATUS_CANCELLED by a deadline     os.ErrDeadlineExceeded (Timeout() true)
//	STATUS_CANCELLED by Close, or a call refused after close (INVALID_HANDLE,
//	FILE_FORCED_CLOSED)                net.ErrClosed
//	anything else                      the status as an error (*irp.StatusError): it
//	                                   matches syscall.ECONNRESET and friends with
//	                                   errors.Is and carries its WSA code
func statusErr(st irp.Status, timedOut, closed bool) error {
	switch {
	case st == irp.Cancelled && timedOut && !closed:
		return os.ErrDeadlineExceeded
	case closed, st == irp.Cancelled, st == irp.InvalidHandle, st == irp.FileForcedClosed:
		return net.ErrClosed
	}
	return st.Err()
}

// acceptErr maps a failed accept to the error net/http's and gRPC's accept loops
// expect: after Close net.ErrClosed (they stop); a connection reset or aborted before
// it was taken a bare syscall.Errno (net.OpError's Temporary() is true for
// ECONNRESET and ECONNABORTED under Op "accept" only when Err is the bare Errno); out
// of descriptors EMFILE inside an os.SyscallError (Errno.Temporary() covers it): both
// loops back off and retry.
func acceptErr(st irp.Status) error {
	switch st {
	case irp.ConnectionReset:
		return syscall.ECONNRESET
	case irp.ConnectionAborted, irp.RequestAborted:
		return syscall.ECONNABORTED
	case irp.InsufficientResources:
		return os.NewSyscallError("accept", syscall.EMFILE)
	}
	return statusErr(st, false, false)
}

// opErr is the *net.OpError every adapter error is, outermost.
func opErr(op, network string, src, addr net.Addr, err error) error {
	return &net.OpError{Op: op, Net: network, Source: src, Addr: addr, Err: err}
}

var errDeadline = os.ErrDeadlineExceeded
