//go:build linux

package winsock_test

import (
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/wsk/internal/linger/lingertest"
	"github.com/gowsk/gowsk/wsk/winsock"
)

const waitLimit = 15 * time.Second

// session starts a Winsock session for the test and opens the test goroutine's thread
// context; cleanup closes the context and runs WSACleanup, checking that nothing leaked.
func session(t *testing.T, opts ...winsock.Option) (*winsock.WSA, *winsock.Thread) {
	w, data, err := winsock.WSAStartup(winsock.MakeWord(2, 2), opts...)
	require.NoError(t, err)
	require.Equal(t, winsock.MakeWord(2, 2), data.Version)
	th, err := w.OpenThread()
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, w.CloseThread(th))
		assert.NoError(t, w.WSACleanup())
		st := w.Stats()
		assert.Zero(t, st.UnclosedThreads, "thread contexts left open")
		assert.Zero(t, st.LeakedHandles, "provider handles left open")
		assert.Zero(t, st.Panics)
	})
	return w, th
}

// peerListener is the plain Linux peer's listening socket.
func peerListener(t *testing.T) *net.TCPListener {
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

func addrOf(ln *net.TCPListener) netip.AddrPort { return ln.Addr().(*net.TCPAddr).AddrPort() }

// dialPeer makes a Winsock TCP socket connected to a plain peer and returns both ends.
// The peer's receive buffer is small so that a send queue fills quickly.
func dialPeer(t *testing.T, th *winsock.Thread) (winsock.Socket, *net.TCPConn) {
	ln := peerListener(t)
	s, err := th.Socket(winsock.AFInet, winsock.SockStream, winsock.IPProtoTCP)
	require.NoError(t, err)
	require.NoError(t, th.Connect(s, addrOf(ln)))
	_ = ln.SetDeadline(time.Now().Add(waitLimit))
	c, err := ln.AcceptTCP()
	require.NoError(t, err)
	require.NoError(t, c.SetReadBuffer(64<<10))
	t.Cleanup(func() { _ = c.Close() })
	return s, c
}

type peerSaw = lingertest.Saw

func drain(c *net.TCPConn) peerSaw { return lingertest.Drain(c, waitLimit) }

func soError(c *net.TCPConn) syscall.Errno { return lingertest.SoError(c) }

// code is the WSA code of err (0 for nil).
func code(err error) winsock.WSAError { return winsock.CodeOf(err) }

func setLinger(t *testing.T, th *winsock.Thread, s winsock.Socket, on, secs uint16) {
	require.NoError(t, th.Setsockopt(s, winsock.SOLSocket, winsock.SOLinger, winsock.Linger{OnOff: on, Linger: secs}.Bytes()))
}

func setNonblocking(t *testing.T, th *winsock.Thread, s winsock.Socket, on bool) {
	v := uint32(0)
	if on {
		v = 1
	}
	require.NoError(t, th.Ioctlsocket(s, winsock.FIONBIO, &v))
}

// fill starts one overlapped send of n bytes; the Overlapped reports its completion.
func fill(t *testing.T, th *winsock.Thread, s winsock.Socket, n int) *winsock.Overlapped {
	ov := &winsock.Overlapped{Event: winsock.WSACreateEvent()}
	_, err := th.WSASend(s, [][]byte{make([]byte, n)}, 0, ov, nil)
	if err != nil {
		require.Equal(t, winsock.WSAError(997), code(err), "WSASend: %v", err)
	}
	return ov
}
