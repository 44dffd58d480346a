//go:build linux

package winsock_test

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/winsock"
)

func TestStartupVersionsAndCleanup(t *testing.T) {
	_, _, err := winsock.WSAStartup(winsock.MakeWord(1, 1))
	require.Equal(t, winsock.WSAVERNOTSUPPORTED, code(err))
	w, _, err := winsock.WSAStartup(winsock.MakeWord(2, 2))
	require.NoError(t, err)
	th, err := w.OpenThread()
	require.NoError(t, err)
	s, err := th.Socket(winsock.AFInet, winsock.SockStream, 0)
	require.NoError(t, err)
	require.NoError(t, w.CloseThread(th))
	require.NoError(t, w.WSACleanup()) // closes s
	require.Equal(t, irp.WSANOTINITIALISED, code(w.WSACleanup()))
	require.Equal(t, irp.WSANOTINITIALISED, code(th.Closesocket(s)))
	_, err = w.OpenThread()
	require.Equal(t, irp.WSANOTINITIALISED, code(err))
	require.Zero(t, w.Stats().Sockets)
}

func TestErrorsCarryCodeAndSentinels(t *testing.T) {
	for _, c := range []struct {
		code winsock.WSAError
		is   error
	}{
		{irp.WSAECONNRESET, syscall.ECONNRESET},
		{irp.WSAEWOULDBLOCK, syscall.EAGAIN},
		{irp.WSAENOTSOCK, net.ErrClosed},
		{irp.WSAOperationAborted, net.ErrClosed},
		{irp.WSAECONNABORTED, syscall.ECONNABORTED},
		{irp.WSAESHUTDOWN, syscall.ESHUTDOWN},
		{irp.WSAEINVAL, syscall.EINVAL},
	} {
		err := error(&winsock.Error{Op: "x", Code: c.code})
		require.ErrorIs(t, err, c.is, "%v", err)
		require.ErrorIs(t, err, c.code)
		require.Equal(t, c.code, code(err))
	}
	require.Equal(t, "recv: WSAEWOULDBLOCK (10035)", (&winsock.Error{Op: "recv", Code: irp.WSAEWOULDBLOCK}).Error())
	require.False(t, errors.Is(&winsock.Error{Code: irp.WSAECONNRESET}, syscall.EPIPE))
}

// A TCP exchange through every basic call: socket, bind, listen, accept, connect, send,
// recv, shutdown, closesocket, with a Winsock socket on each side.
func TestTCPEcho(t *testing.T) {
	_, th := session(t)
	ls, err := th.Socket(winsock.AFInet, winsock.SockStream, winsock.IPProtoTCP)
	require.NoError(t, err)
	require.Equal(t, irp.WSAEINVAL, code(th.Listen(ls, 5)), "listen before bind")
	require.NoError(t, th.Bind(ls, loopback0()))
	require.NoError(t, th.Listen(ls, winsock.SOMaxConn))
	la, err := th.GetSockName(ls)
	require.NoError(t, err)

	got := make(chan error, 1)
	var cs winsock.Socket
	go func() { // the client, on its own thread context, closed before it reports
		ct, err := threadFor(th)
		if err != nil {
			got <- err
			return
		}
		err = func() error {
			defer closeThread(th, ct)
			s, err := ct.Socket(winsock.AFInet, winsock.SockStream, 0)
			if err != nil {
				return err
			}
			cs = s
			if err := ct.Connect(s, la); err != nil {
				return err
			}
			_, err = ct.Send(s, []byte("ping"), 0)
			return err
		}()
		got <- err
	}()
	as, remote, err := th.Accept(ls)
	require.NoError(t, err)
	require.True(t, remote.IsValid())
	require.NoError(t, <-got)
	b := make([]byte, 16)
	n, err := th.Recv(as, b, 0)
	require.NoError(t, err)
	require.Equal(t, "ping", string(b[:n]))
	require.NoError(t, th.Shutdown(cs, winsock.SDSend))
	n, err = th.Recv(as, b, 0)
	require.NoError(t, err)
	require.Zero(t, n, "the peer's FIN")
	_, err = th.Send(cs, []byte("x"), 0)
	require.Equal(t, irp.WSAESHUTDOWN, code(err))
	require.Equal(t, irp.WSAEINVAL, code(th.Shutdown(cs, 7)))
	for _, s := range []winsock.Socket{as, cs, ls} {
		require.NoError(t, th.Closesocket(s))
		require.Equal(t, irp.WSAENOTSOCK, code(th.Closesocket(s)), "second close")
	}
}

func TestUDPSendToRecvFrom(t *testing.T) {
	_, th := session(t)
	a, err := th.Socket(winsock.AFInet, winsock.SockDgram, winsock.IPProtoUDP)
	require.NoError(t, err)
	require.NoError(t, th.Bind(a, loopback0()))
	aa, err := th.GetSockName(a)
	require.NoError(t, err)
	b, err := th.Socket(winsock.AFInet, winsock.SockDgram, 0)
	require.NoError(t, err)
	_, err = th.SendTo(b, make([]byte, 70000), 0, aa)
	require.Equal(t, irp.WSAEMSGSIZE, code(err))
	n, err := th.SendTo(b, []byte("dgram"), 0, aa)
	require.NoError(t, err)
	require.Equal(t, 5, n)
	buf := make([]byte, 64)
	n, from, err := th.RecvFrom(a, buf, 0)
	require.NoError(t, err)
	require.Equal(t, "dgram", string(buf[:n]))
	require.True(t, from.IsValid())
	require.Equal(t, winsock.WSAENOPROTOOPT, code(th.Setsockopt(a, winsock.SOLSocket, winsock.SOLinger, winsock.Linger{}.Bytes())))
	require.NoError(t, th.Closesocket(a))
	require.NoError(t, th.Closesocket(b))
}

// Options and ioctls, with the exact codes for bad input.
func TestOptionsAndBadInput(t *testing.T) {
	_, th := session(t)
	s, peer := dialPeer(t, th)
	_ = peer
	val := make([]byte, 4)
	require.NoError(t, th.Setsockopt(s, winsock.SOLSocket, winsock.SORcvBuf, winsock.IntOpt(128<<10)))
	n, err := th.Getsockopt(s, winsock.SOLSocket, winsock.SORcvBuf, val)
	require.NoError(t, err)
	require.Equal(t, 4, n)
	require.NoError(t, th.Setsockopt(s, winsock.SOLSocket, winsock.SOSndBuf, winsock.IntOpt(128<<10)))
	require.NoError(t, th.Setsockopt(s, winsock.IPProtoTCPLevel, winsock.TCPNoDelay, winsock.IntOpt(1)))
	_, err = th.Getsockopt(s, winsock.IPProtoTCPLevel, winsock.TCPNoDelay, val)
	require.NoError(t, err)
	_, err = th.Getsockopt(s, winsock.SOLSocket, winsock.SOError, val)
	require.NoError(t, err)
	require.Equal(t, []byte{0, 0, 0, 0}, val)

	// SO_LINGER and SO_DONTLINGER: DONTLINGER flips l_onoff only and reinstates the timeout.
	setLinger(t, th, s, 1, 7)
	require.NoError(t, th.Setsockopt(s, winsock.SOLSocket, winsock.SODontLinger, winsock.IntOpt(1)))
	_, err = th.Getsockopt(s, winsock.SOLSocket, winsock.SOLinger, val)
	require.NoError(t, err)
	lg, _ := winsock.ParseLinger(val)
	require.Equal(t, winsock.Linger{OnOff: 0, Linger: 7}, lg)
	require.NoError(t, th.Setsockopt(s, winsock.SOLSocket, winsock.SODontLinger, winsock.IntOpt(0)))
	_, err = th.Getsockopt(s, winsock.SOLSocket, winsock.SOLinger, val)
	require.NoError(t, err)
	lg, _ = winsock.ParseLinger(val)
	require.Equal(t, winsock.Linger{OnOff: 1, Linger: 7}, lg)
	_, err = th.Getsockopt(s, winsock.SOLSocket, winsock.SODontLinger, val)
	require.NoError(t, err)
	require.Equal(t, []byte{0, 0, 0, 0}, val)

	// Bad lengths, levels, names, commands, how.
	require.Equal(t, winsock.WSAEFAULT, code(th.Setsockopt(s, winsock.SOLSocket, winsock.SOLinger, []byte{1, 0})))
	require.Equal(t, winsock.WSAEFAULT, code(th.Setsockopt(s, winsock.SOLSocket, winsock.SORcvBuf, []byte{1})))
	_, err = th.Getsockopt(s, winsock.SOLSocket, winsock.SORcvBuf, make([]byte, 2))
	require.Equal(t, winsock.WSAEFAULT, code(err))
	require.Equal(t, irp.WSAEINVAL, code(th.Setsockopt(s, 0x1234, winsock.SORcvBuf, winsock.IntOpt(1))))
	require.Equal(t, winsock.WSAENOPROTOOPT, code(th.Setsockopt(s, winsock.SOLSocket, 0x7777, winsock.IntOpt(1))))
	require.Equal(t, irp.WSAEINVAL, code(th.Setsockopt(s, winsock.SOLSocket, winsock.SOError, winsock.IntOpt(1))))
	require.Equal(t, winsock.WSAEFAULT, code(th.Ioctlsocket(s, winsock.FIONBIO, nil)))
	var arg uint32
	require.Equal(t, irp.WSAEINVAL, code(th.Ioctlsocket(s, 0x12345678, &arg)))
	require.Equal(t, irp.WSAEINVAL, code(th.Shutdown(s, -1)))
	_, err = th.Send(s, make([]byte, winsock.MaxIO+1), 0)
	require.Equal(t, irp.WSAENOBUFS, code(err), "oversized buffer")
	_, err = th.Socket(99, winsock.SockStream, 0)
	require.Equal(t, winsock.WSAEAFNOSUPPORT, code(err))
	_, err = th.Socket(winsock.AFInet, 9, 0)
	require.Equal(t, winsock.WSAESOCKTNOSUPPORT, code(err))
	_, err = th.Socket(winsock.AFInet, winsock.SockStream, winsock.IPProtoUDP)
	require.Equal(t, winsock.WSAEPROTONOSUPPORT, code(err))

	// FIONREAD sees what the peer sent.
	_, err = peer.Write([]byte("12345"))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return th.Ioctlsocket(s, winsock.FIONREAD, &arg) == nil && arg == 5
	}, waitLimit, time.Millisecond)

	// Invalid handles.
	for _, h := range []winsock.Socket{0, winsock.InvalidSocket, 0x5A00000200000000, s + 1, s ^ (1 << 56)} {
		_, err := th.Send(h, []byte("x"), 0)
		require.Equal(t, irp.WSAENOTSOCK, code(err), "handle %#x", h)
		require.Equal(t, irp.WSAENOTSOCK, code(th.Closesocket(h)))
	}
	require.NoError(t, th.Closesocket(s))
}
