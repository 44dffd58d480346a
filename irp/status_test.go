package irp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStatusSeverity(t *testing.T) {
	cases := []struct {
		s                     Status
		ok, info, warn, isErr bool
	}{
		{Success, true, false, false, false},
		{Pending, true, false, false, false},
		{EventPending, true, true, false, false},
		{BufferOverflow, false, false, true, false},
		{Cancelled, false, false, false, true},
		{MoreProcessingRequired, false, false, false, true},
	}
	for _, c := range cases {
		require.Equal(t, c.ok, c.s.IsSuccess(), c.s.String())
		require.Equal(t, c.info, c.s.IsInformational(), c.s.String())
		require.Equal(t, c.warn, c.s.IsWarning(), c.s.String())
		require.Equal(t, c.isErr, c.s.IsError(), c.s.String())
	}
}

func TestStatusString(t *testing.T) {
	require.Equal(t, "STATUS_CANCELLED", Cancelled.String())
	require.Equal(t, "STATUS_SUCCESS", Success.String())
	require.Equal(t, "STATUS_0xC0001234", Status(0xC0001234).String())
	require.Equal(t, "WSAECONNRESET", WSAECONNRESET.String())
	require.Equal(t, "WSAECONNRESET (10054)", WSAECONNRESET.Error())
	require.Equal(t, "WSA_42", WSAError(42).String())
	require.Equal(t, "STATUS_CONNECTION_RESET (0xC000020D)", ConnectionReset.Err().Error())
}

// TestStatusMapping is invariant 55 plus the rest of the SPEC.md §5.5 table.
func TestStatusMapping(t *testing.T) {
	cases := []struct {
		s     Status
		wsa   WSAError
		win32 uint32
	}{
		{Success, 0, 0},
		{Pending, WSAIOPending, 997},
		{Cancelled, WSAOperationAborted, 995},
		{ConnectionReset, WSAECONNRESET, 64},
		{ConnectionDisconnected, WSAECONNRESET, 64},
		{ConnectionAborted, WSAECONNABORTED, 1236},
		{InvalidHandle, WSAENOTSOCK, 6},
		{IoTimeout, WSAETIMEDOUT, 121},
		{GracefulDisconnect, WSAEDISCON, 1226},
		{InsufficientResources, WSAENOBUFS, 1450},
		{InvalidParameter, WSAEINVAL, 87},
		{InvalidDeviceState, WSAEINVAL, 22},
		{FileForcedClosed, WSAEINVAL, 38},
		{MoreProcessingRequired, WSAEINVAL, 234},
		{RequestAborted, WSAEINTR, 1235},
		{DeviceNotReady, WSAEWOULDBLOCK, 21},
		{RequestNotAccepted, WSAEWOULDBLOCK, 317},
		{LocalDisconnect, WSAECONNABORTED, 64},
		{RemoteDisconnect, WSAECONNRESET, 64},
		{PipeDisconnected, WSAESHUTDOWN, 233},
		{EndOfFile, WSAESHUTDOWN, 38},
		{Status(0xC0001234), WSAEINVAL, 317},
	}
	for _, c := range cases {
		require.Equal(t, c.wsa, c.s.Winsock(), c.s.String())
		require.Equal(t, c.win32, c.s.Win32(), c.s.String())
	}
}

func TestStatusErrSentinels(t *testing.T) {
	require.NoError(t, Success.Err())
	require.NoError(t, EventPending.Err())
	require.Error(t, BufferOverflow.Err())
	cases := []struct {
		s        Status
		sentinel error
	}{
		{InvalidHandle, net.ErrClosed},
		{FileForcedClosed, net.ErrClosed},
		{IoTimeout, os.ErrDeadlineExceeded},
		{Cancelled, context.Canceled},
		{ConnectionReset, syscall.ECONNRESET},
		{RemoteDisconnect, syscall.ECONNRESET},
		{ConnectionDisconnected, syscall.ECONNRESET},
		{ConnectionAborted, syscall.ECONNABORTED},
		{LocalDisconnect, syscall.ECONNABORTED},
		{ConnectionRefused, syscall.ECONNREFUSED},
		{NotSupported, errors.ErrUnsupported},
		{NotImplemented, errors.ErrUnsupported},
	}
	for _, c := range cases {
		err := c.s.Err()
		require.ErrorIs(t, err, c.sentinel, c.s.String())
		require.ErrorIs(t, fmt.Errorf("wrapped: %w", err), c.sentinel, c.s.String())
		require.ErrorIs(t, err, c.s.Winsock(), c.s.String())
		require.ErrorIs(t, err, &StatusError{Status: c.s})
		var se *StatusError
		require.ErrorAs(t, err, &se)
		require.Equal(t, c.s, se.Status)
		require.Equal(t, c.s, FromError(err), "round trip %s", c.s)
	}
	require.NotErrorIs(t, Cancelled.Err(), net.ErrClosed)
	require.NotErrorIs(t, InvalidParameter.Err(), context.Canceled)
}

func TestFromError(t *testing.T) {
	cases := []struct {
		err  error
		want Status
	}{
		{nil, Success},
		{syscall.ECONNRESET, ConnectionReset},
		{syscall.ECONNREFUSED, ConnectionRefused},
		{syscall.EPIPE, ConnectionReset},
		{syscall.ETIMEDOUT, IoTimeout},
		{os.ErrDeadlineExceeded, IoTimeout},
		{context.DeadlineExceeded, IoTimeout},
		{context.Canceled, Cancelled},
		{syscall.EADDRINUSE, AddressAlreadyAssociated},
		{syscall.EINVAL, InvalidParameter},
		{syscall.ENOBUFS, InsufficientResources},
		{syscall.ENOMEM, InsufficientResources},
		{syscall.EMFILE, InsufficientResources},
		{syscall.ENOTCONN, InvalidDeviceState},
		{net.ErrClosed, InvalidHandle},
		{errors.ErrUnsupported, NotSupported},
		{io.EOF, EndOfFile},
		{&os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}, ConnectionReset},
		{fmt.Errorf("x: %w", GracefulDisconnect.Err()), GracefulDisconnect},
		{WSAECONNABORTED, ConnectionAborted},
		{syscall.Errno(WSAECONNRESET), ConnectionReset}, // how Windows reports it
		{&os.SyscallError{Syscall: "wsarecv", Err: syscall.Errno(WSAECONNREFUSED)}, ConnectionRefused},
		{syscall.Errno(WSAOperationAborted), Cancelled},
		{syscall.Errno(WSAENETUNREACH), NetworkUnreachable},
		{syscall.Errno(10999), Unsuccessful}, // a Winsock code with no Status
		{errors.New("mystery"), Unsuccessful},
	}
	for _, c := range cases {
		require.Equal(t, c.want, FromError(c.err), "%v", c.err)
	}
	// A status matches the Winsock code as Windows hands it over, an Errno, but not
	// another code.
	require.ErrorIs(t, ConnectionReset.Err(), syscall.Errno(WSAECONNRESET))
	require.NotErrorIs(t, ConnectionReset.Err(), syscall.Errno(WSAECONNABORTED))
}
