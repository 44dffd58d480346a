//go:build unix || windows

package sock

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
)

// TestStreamRoundTrip: a nonblocking connect completes, the addresses agree, one and
// several buffers go both ways, a peek leaves the bytes queued, an empty queue says
// "again" (DeviceNotReady as a status), and Shutdown gives the peer EOF.
func TestStreamRoundTrip(t *testing.T) {
	c, s := connected(t)
	ca, err := LocalAddr(c)
	require.NoError(t, err)
	sp, err := PeerAddr(s)
	require.NoError(t, err)
	require.Equal(t, ca, sp, "the server's peer is the client")
	require.Equal(t, netip.MustParseAddr("127.0.0.1"), ca.Addr())

	n, err := Writev(c, [][]byte{[]byte("hello")})
	require.NoError(t, err)
	require.Equal(t, 5, n)
	n, err = Writev(c, [][]byte{[]byte(" wo"), nil, []byte("rld")})
	require.NoError(t, err)
	require.Equal(t, 6, n)

	var one [1]byte
	retry(t, "peek", func() bool {
		n, err = Peek(s, one[:])
		return !IsAgain(err)
	})
	require.NoError(t, err)
	require.Equal(t, "h", string(one[:n]))

	got := make([]byte, 0, 11)
	a, b := make([]byte, 4), make([]byte, 16)
	retry(t, "readv", func() bool {
		n, err := Readv(s, [][]byte{a, b})
		if IsAgain(err) {
			return false
		}
		require.NoError(t, err)
		got = append(got, a[:min(n, 4)]...)
		if n > 4 {
			got = append(got, b[:n-4]...)
		}
		return len(got) == 11
	})
	require.Equal(t, "hello world", string(got))

	_, err = Read(s, b)
	require.True(t, IsAgain(err), "an empty queue: %v", err)
	require.Equal(t, irp.DeviceNotReady, Status(err))
	_, err = Peek(s, one[:])
	require.True(t, IsAgain(err), "an empty queue, peeked: %v", err)

	require.NoError(t, Shutdown(c))
	n, err = readSome(t, s, b)
	require.NoError(t, err)
	require.Zero(t, n, "the peer's FIN reads as EOF")
	n, err = Peek(s, one[:])
	require.NoError(t, err)
	require.Zero(t, n, "the peer's FIN peeks as EOF")

	// The other direction still works after our FIN.
	_, err = Writev(s, [][]byte{[]byte("bye")})
	require.NoError(t, err)
	n, err = readSome(t, c, b)
	require.NoError(t, err)
	require.Equal(t, "bye", string(b[:n]))
}

// TestAcceptAgain: a listener with nothing queued says "again", and so does a connect
// in progress before the peer answered; a second Bind is refused with an error the
// provider reports as a status.
func TestAcceptAgain(t *testing.T) {
	l, _ := listener(t)
	_, _, err := Accept(l)
	require.True(t, IsAgain(err), "accept on an empty queue: %v", err)
	require.NotEqual(t, irp.Success, Status(Bind(l, AFInet, loopback4)), "bound twice")
}

// TestAbortiveClose: SetLingerZero and Close reset the connection (the peer sees RST:
// STATUS_CONNECTION_RESET, matching syscall.ECONNRESET), and so does Reset followed by
// Close (on Linux Reset alone sends it; Windows sends it at the close).
func TestAbortiveClose(t *testing.T) {
	for _, how := range []string{"linger0", "reset"} {
		t.Run(how, func(t *testing.T) {
			c, s := connected(t)
			if how == "linger0" {
				SetLingerZero(c)
			} else {
				Reset(c)
			}
			require.NoError(t, Close(c))
			var b [8]byte
			_, err := readSome(t, s, b[:])
			require.Error(t, err, "a reset, not EOF")
			st := Status(err)
			require.Equal(t, irp.ConnectionReset, st, "read after the peer's RST: %v", err)
			require.True(t, errors.Is(st.Err(), syscall.ECONNRESET))
		})
	}
}

// TestGracefulClose: a plain Close with nothing unread is a FIN, not a reset.
func TestGracefulClose(t *testing.T) {
	c, s := connected(t)
	require.NoError(t, Close(c))
	var b [8]byte
	n, err := readSome(t, s, b[:])
	require.NoError(t, err)
	require.Zero(t, n)
}

// TestConnectRefused: a nonblocking connect to a port nobody listens on ends, once
// ConnectResult says done, with STATUS_CONNECTION_REFUSED.
func TestConnectRefused(t *testing.T) {
	// A port that was just free: bound, not listening, then closed.
	p := newSocket(t, AFInet, SockStream, IPProtoTCP)
	require.NoError(t, Bind(p, AFInet, loopback4))
	a, err := LocalAddr(p)
	require.NoError(t, err)
	require.NoError(t, Close(p))

	c := newSocket(t, AFInet, SockStream, IPProtoTCP)
	require.NoError(t, Bind(c, AFInet, netip.AddrPort{}))
	err = Connect(c, AFInet, a)
	if err == nil || IsInProgress(err) {
		retry(t, "connect", func() bool {
			var done bool
			done, err = ConnectResult(c)
			return done
		})
	}
	require.Equal(t, irp.ConnectionRefused, Status(err), "connect to a closed port: %v", err)
}

// TestDualStack: an IPv6 socket takes IPv4 peers (v4-mapped), and reports them unmapped.
func TestDualStack(t *testing.T) {
	l := newSocket(t, AFInet6, SockStream, IPProtoTCP)
	require.NoError(t, PrepareListener(l))
	if err := Bind(l, AFInet6, netip.AddrPort{}); err != nil {
		t.Skipf("no IPv6 here: %v", err)
	}
	require.NoError(t, Listen(l))
	la, err := LocalAddr(l)
	require.NoError(t, err)

	c := newSocket(t, AFInet6, SockStream, IPProtoTCP)
	require.NoError(t, Bind(c, AFInet6, netip.AddrPort{}))
	to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), la.Port())
	if err := Connect(c, AFInet6, to); err != nil {
		require.True(t, IsInProgress(err), "connect: %v", err)
	}
	_, peer := accept(t, l)
	require.True(t, peer.Addr().Is4(), "an IPv4 peer is reported unmapped: %v", peer)
	retry(t, "connect", func() bool {
		done, err := ConnectResult(c)
		require.NoError(t, err)
		return done
	})
	ra, err := PeerAddr(c)
	require.NoError(t, err)
	require.Equal(t, to, ra)

	v4 := newSocket(t, AFInet, SockStream, IPProtoTCP)
	require.Equal(t, irp.InvalidParameter, Status(Bind(v4, AFInet, netip.MustParseAddrPort("[::1]:0"))),
		"an IPv6 address on an IPv4 socket")
}
