//go:build unix || windows

package sock

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
)

// udp is a bound UDP socket on 127.0.0.1 and its address.
func udp(t *testing.T) (int, netip.AddrPort) {
	t.Helper()
	fd := newSocket(t, AFInet, SockDgram, IPProtoUDP)
	require.NoError(t, Bind(fd, AFInet, loopback4))
	a, err := LocalAddr(fd)
	require.NoError(t, err)
	return fd, a
}

// recvFrom waits for one datagram on fd.
func recvFrom(t *testing.T, fd int, b []byte) (int, netip.AddrPort) {
	t.Helper()
	var n int
	var from netip.AddrPort
	retry(t, "recvfrom", func() bool {
		var err error
		n, from, err = RecvFrom(fd, b)
		if IsAgain(err) {
			return false
		}
		require.NoError(t, err)
		return true
	})
	return n, from
}

// TestDatagrams: one buffer, several (one datagram), none (an empty datagram); the
// source is reported; a longer datagram than the buffer is cut, not an error.
func TestDatagrams(t *testing.T) {
	a, aa := udp(t)
	b, ba := udp(t)
	buf := make([]byte, 64)

	n, err := SendTo(a, AFInet, [][]byte{[]byte("one")}, ba)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	n, from := recvFrom(t, b, buf)
	require.Equal(t, "one", string(buf[:n]))
	require.Equal(t, aa, from)

	n, err = SendTo(a, AFInet, [][]byte{[]byte("tw"), []byte("o")}, ba)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	n, _ = recvFrom(t, b, buf)
	require.Equal(t, "two", string(buf[:n]))

	_, err = SendTo(a, AFInet, nil, ba)
	require.NoError(t, err)
	n, _ = recvFrom(t, b, buf)
	require.Zero(t, n, "an empty datagram")

	_, err = SendTo(a, AFInet, [][]byte{[]byte("truncated")}, ba)
	require.NoError(t, err)
	n, _ = recvFrom(t, b, buf[:4])
	require.Equal(t, "trun", string(buf[:n]))

	_, _, err = RecvFrom(b, buf)
	require.True(t, IsAgain(err), "nothing queued: %v", err)
}

// TestDatagramICMPIgnored: a datagram to a port nobody listens on draws an ICMP port
// unreachable; the next receive must not fail for it (Unix skips ECONNREFUSED, Windows
// has SIO_UDP_CONNRESET off), on an unconnected socket and on a connected one, and a
// datagram sent after it still arrives.
func TestDatagramICMPIgnored(t *testing.T) {
	dead, da := udp(t)
	require.NoError(t, Close(dead))
	for _, connect := range []bool{false, true} {
		name := map[bool]string{false: "unconnected", true: "connected"}[connect]
		t.Run(name, func(t *testing.T) {
			a, aa := udp(t)
			if connect {
				require.NoError(t, Connect(a, AFInet, da))
			}
			for range 3 {
				// A connected Linux socket may report the refusal on the next send.
				if _, err := SendTo(a, AFInet, [][]byte{[]byte("x")}, da); err != nil {
					require.Equal(t, irp.ConnectionRefused, Status(err), "send: %v", err)
				}
			}
			buf := make([]byte, 8)
			_, _, err := RecvFrom(a, buf)
			require.True(t, IsAgain(err), "after the ICMP errors the queue is just empty: %v", err)
			if !connect {
				b, _ := udp(t)
				_, err = SendTo(b, AFInet, [][]byte{[]byte("ok")}, aa)
				require.NoError(t, err)
				n, _ := recvFrom(t, a, buf)
				require.Equal(t, "ok", string(buf[:n]))
			}
		})
	}
}

// TestDissociate: a connected UDP socket takes datagrams from its peer only; Dissociate
// opens it to every source again.
func TestDissociate(t *testing.T) {
	a, aa := udp(t)
	b, ba := udp(t)
	c, _ := udp(t)
	require.NoError(t, Connect(a, AFInet, ba))
	buf := make([]byte, 8)

	_, err := SendTo(c, AFInet, [][]byte{[]byte("c1")}, aa)
	require.NoError(t, err)
	_, err = SendTo(b, AFInet, [][]byte{[]byte("b1")}, aa)
	require.NoError(t, err)
	n, from := recvFrom(t, a, buf)
	require.Equal(t, "b1", string(buf[:n]), "the kernel filters by source")
	require.Equal(t, ba, from)

	require.NoError(t, Dissociate(a, AFInet))
	require.Equal(t, aa, mustLocal(t, a), "the same address and port after Dissociate")
	_, err = SendTo(c, AFInet, [][]byte{[]byte("c2")}, aa)
	require.NoError(t, err)
	n, _ = recvFrom(t, a, buf)
	require.Equal(t, "c2", string(buf[:n]), "any source after Dissociate")
}

func mustLocal(t *testing.T, fd int) netip.AddrPort {
	t.Helper()
	a, err := LocalAddr(fd)
	require.NoError(t, err)
	return a
}
