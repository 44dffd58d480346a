//go:build linux

package winsock

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
)

// The base provider's WSPCloseSocket is a hard close, as the SAN provider's: 0 (never
// WSAEWOULDBLOCK or WSAEINPROGRESS), whatever is queued; later calls on the handle are
// WSAENOTSOCK; the remote end sees a reset (invariant 51).
func TestBaseCloseSocketIsHard(t *testing.T) {
	w, _, err := WSAStartup(MakeWord(2, 2))
	require.NoError(t, err)
	defer func() { require.NoError(t, w.WSACleanup()) }()
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer ln.Close()
	base := w.tables[0]
	ph, code := base.Socket(AFInet, SockStream, IPProtoTCP, &w.catalog[0], 0)
	require.Zero(t, code)
	require.Zero(t, base.Connect(ph, ln.Addr().(*net.TCPAddr).AddrPort()))
	peer, err := ln.AcceptTCP()
	require.NoError(t, err)
	defer peer.Close()
	require.NoError(t, peer.SetReadBuffer(64<<10))
	ov := &Overlapped{}
	ov.Begin()
	_, code = base.Send(ph, [][]byte{make([]byte, 4<<20)}, 0, ov, nil, nil) // queued data
	require.Equal(t, irp.WSAIOPending, code)
	require.Zero(t, base.CloseSocket(ph), "a hard close never fails or waits")
	e, _, _, pending := ov.Result()
	require.False(t, pending)
	require.Equal(t, irp.WSAOperationAborted, e)
	_, code = base.Send(ph, [][]byte{[]byte("x")}, 0, nil, nil, nil)
	require.Equal(t, irp.WSAENOTSOCK, code)
	require.Equal(t, irp.WSAENOTSOCK, base.CloseSocket(ph))
	_ = peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 1<<16)
	for {
		_, err = peer.Read(b)
		if err != nil {
			break
		}
	}
	require.True(t, errors.Is(err, syscall.ECONNRESET), "the remote recv fails with a reset: %v", err)
	require.False(t, errors.Is(err, io.EOF))
}

// The NTSTATUS → Winsock mapping this layer reports (invariant 55), with the Win32
// translation of a reset, which differs (ERROR_NETNAME_DELETED 64).
func TestStatusMapping(t *testing.T) {
	for st, want := range map[irp.Status]WSAError{
		irp.Cancelled:             995,
		irp.ConnectionReset:       10054,
		irp.ConnectionAborted:     10053,
		irp.InvalidHandle:         10038,
		irp.IoTimeout:             10060,
		irp.GracefulDisconnect:    10101,
		irp.InsufficientResources: 10055,
		irp.Pending:               997,
		irp.InvalidDeviceState:    irp.WSAENOTCONN, // this layer: an unconnected socket
		irp.Success:               0,
	} {
		require.Equal(t, want, statusCode(st), "%v", st)
	}
	require.EqualValues(t, 64, irp.ConnectionReset.Win32())
}
