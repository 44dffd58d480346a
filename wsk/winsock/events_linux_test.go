//go:build linux

package winsock_test

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/winsock"
)

// waitEvents waits for ev and returns the recorded events (bounded).
func waitEvents(t *testing.T, th *winsock.Thread, s winsock.Socket, ev *winsock.Event, want int32) winsock.NetworkEvents {
	var all winsock.NetworkEvents
	deadline := time.Now().Add(waitLimit)
	for all.NetworkEvents&want != want && time.Now().Before(deadline) {
		th.WaitForSingleObjectEx(ev, 100*time.Millisecond, false)
		ne, err := th.WSAEnumNetworkEvents(s, ev)
		require.NoError(t, err)
		all.NetworkEvents |= ne.NetworkEvents
		for b := range ne.ErrorCode {
			if ne.NetworkEvents&(1<<b) != 0 {
				all.ErrorCode[b] = ne.ErrorCode[b]
			}
		}
	}
	require.Equal(t, want, all.NetworkEvents&want, "events %#x", all.NetworkEvents)
	return all
}

func TestEventSelectReadWriteClose(t *testing.T) {
	_, th := session(t)
	s, peer := dialPeer(t, th)
	ev := winsock.WSACreateEvent()
	require.NoError(t, th.WSAEventSelect(s, ev, winsock.FDRead|winsock.FDWrite|winsock.FDClose))
	waitEvents(t, th, s, ev, winsock.FDWrite)
	v := uint32(0)
	require.Equal(t, irp.WSAEINVAL, code(th.Ioctlsocket(s, winsock.FIONBIO, &v)), "blocking mode while selected")
	_, err := peer.Write([]byte("data"))
	require.NoError(t, err)
	waitEvents(t, th, s, ev, winsock.FDRead)
	b := make([]byte, 16)
	n, err := th.Recv(s, b, 0)
	require.NoError(t, err)
	require.Equal(t, 4, n)
	_, err = th.Recv(s, b, 0)
	require.Equal(t, irp.WSAEWOULDBLOCK, code(err), "selected sockets are nonblocking")
	require.NoError(t, peer.CloseWrite())
	ne := waitEvents(t, th, s, ev, winsock.FDClose)
	require.Zero(t, ne.ErrorCode[winsock.FDCloseBit], "a graceful FIN")
	require.NoError(t, th.Closesocket(s))
	require.Error(t, th.WSAEventSelect(s, ev, winsock.FDRead), "closed")
	require.Equal(t, irp.WSAEINVAL, code(func() error {
		s2, _ := dialPeer(t, th)
		defer th.Closesocket(s2)
		return th.WSAEventSelect(s2, ev, 1<<20)
	}()))
}

// A peer reset is FD_CLOSE with WSAECONNRESET.
func TestEventSelectResetIsCloseWithCode(t *testing.T) {
	_, th := session(t)
	s, peer := dialPeer(t, th)
	ev := winsock.WSACreateEvent()
	require.NoError(t, th.WSAEventSelect(s, ev, winsock.FDClose))
	require.NoError(t, peer.SetLinger(0))
	require.NoError(t, peer.Close())
	ne := waitEvents(t, th, s, ev, winsock.FDClose)
	require.Equal(t, irp.WSAECONNRESET, ne.ErrorCode[winsock.FDCloseBit])
	require.NoError(t, th.Closesocket(s))
}

// No FD_CLOSE after closesocket: the peer's FIN after our close signals nothing
// (invariant 47); no FD_ACCEPT during a listener's closure (invariant 52).
func TestNoEventsAfterClose(t *testing.T) {
	_, th := session(t)
	s, peer := dialPeer(t, th)
	ev := winsock.WSACreateEvent()
	require.NoError(t, th.WSAEventSelect(s, ev, winsock.FDClose|winsock.FDRead))
	require.NoError(t, th.Closesocket(s))
	winsock.WSAResetEvent(ev)
	_, _ = peer.Write([]byte("late"))
	_ = peer.Close()
	require.Equal(t, winsock.WaitTimeout, th.WaitForSingleObjectEx(ev, 100*time.Millisecond, false), "no event after closesocket")

	ls, err := th.Socket(winsock.AFInet, winsock.SockStream, 0)
	require.NoError(t, err)
	require.NoError(t, th.Bind(ls, loopback0()))
	require.NoError(t, th.Listen(ls, 16))
	la, _ := th.GetSockName(ls)
	lev := winsock.WSACreateEvent()
	require.NoError(t, th.WSAEventSelect(ls, lev, winsock.FDAccept))
	c1, err := net.Dial("tcp", la.String())
	require.NoError(t, err)
	defer c1.Close()
	waitEvents(t, th, ls, lev, winsock.FDAccept)
	as, _, err := th.Accept(ls)
	require.NoError(t, err)
	_, _, err = th.Accept(ls)
	require.Equal(t, irp.WSAEWOULDBLOCK, code(err), "nothing waiting")
	require.NoError(t, th.Closesocket(ls))
	winsock.WSAResetEvent(lev)
	if c2, err := net.Dial("tcp", la.String()); err == nil {
		_ = c2.Close()
	}
	require.Equal(t, winsock.WaitTimeout, th.WaitForSingleObjectEx(lev, 100*time.Millisecond, false), "no FD_ACCEPT after/during closure")
	require.NoError(t, th.Closesocket(as))
}

// A nonblocking connect: WSAEWOULDBLOCK, then FD_CONNECT and FD_WRITE; a refused one
// gives FD_CONNECT with WSAECONNREFUSED.
func TestEventSelectConnect(t *testing.T) {
	_, th := session(t)
	ln := peerListener(t)
	s, err := th.Socket(winsock.AFInet, winsock.SockStream, 0)
	require.NoError(t, err)
	ev := winsock.WSACreateEvent()
	require.NoError(t, th.WSAEventSelect(s, ev, winsock.FDConnect|winsock.FDWrite))
	err = th.Connect(s, addrOf(ln))
	require.True(t, err == nil || code(err) == irp.WSAEWOULDBLOCK, "%v", err)
	ne := waitEvents(t, th, s, ev, winsock.FDConnect|winsock.FDWrite)
	require.Zero(t, ne.ErrorCode[winsock.FDConnectBit])
	require.Equal(t, winsock.WSAEISCONN, code(th.Connect(s, addrOf(ln))))
	require.NoError(t, th.Closesocket(s))

	dead := addrOf(ln)
	require.NoError(t, ln.Close())
	s2, err := th.Socket(winsock.AFInet, winsock.SockStream, 0)
	require.NoError(t, err)
	require.NoError(t, th.WSAEventSelect(s2, ev, winsock.FDConnect))
	_ = th.Connect(s2, dead)
	ne = waitEvents(t, th, s2, ev, winsock.FDConnect)
	require.Equal(t, irp.WSAECONNREFUSED, ne.ErrorCode[winsock.FDConnectBit])
	require.NoError(t, th.Closesocket(s2))
}
