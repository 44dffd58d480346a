//go:build linux

package wsk

import (
	"net"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/wsk/internal/sock"
)

// The fixtures that only Linux gives a test (fixtures_other_test.go skips the tests that
// need them elsewhere).

// resetAtAbort: an abortive disconnect resets the connection at once, the descriptor
// still open (connect(AF_UNSPEC), wsk/internal/sock.Reset).
const resetAtAbort = true

// haveFixture: Linux has them all.
var haveFixture = [...]bool{fixStuckConnect: true, fixKillTransport: true, fixKillListener: true}

// stuckConnectTarget is a listening socket with backlog 0 whose accept queue one filler
// connection (never accepted) already fills: Linux drops every further SYN, so a connect
// to it stays pending (SYN_SENT) for at least the first retransmission timeout (1 s),
// until cancelled or closed. network is "tcp4" or "tcp6". It returns the address.
func stuckConnectTarget(t *testing.T, network string) netip.AddrPort {
	t.Helper()
	fam, lo := unix.AF_INET, netip.MustParseAddr("127.0.0.1")
	if network == "tcp6" {
		fam, lo = unix.AF_INET6, netip.IPv6Loopback()
	}
	fd, err := unix.Socket(fam, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	require.NoError(t, sock.Bind(fd, fam, netip.AddrPortFrom(lo, 0)))
	require.NoError(t, unix.Listen(fd, 0))
	addr, err := sock.LocalAddr(fd)
	require.NoError(t, err)
	filler, err := net.DialTimeout(network, addr.String(), waitLimit)
	require.NoError(t, err)
	t.Cleanup(func() { filler.Close() })
	nsWaitListenQueue(t, fd, 1) // from then on SYNs are dropped
	return addr
}

// killTransport makes ws's descriptor stop being a socket (dup3 of an epoll descriptor
// over it): socket syscalls on it then fail with ENOTSOCK and reads with EINVAL, the
// "transport died" case of SPEC.md §3.5 that a real stack reports with STATUS_FILE_FORCED_CLOSED.
// The number stays taken (closing it instead could let another test's descriptor reuse
// it). The loop is then made to look, both ways.
func killTransport(t *testing.T, ws *dispatch.Socket) {
	t.Helper()
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	require.NoError(t, err)
	s := sockOf(ws)
	require.NoError(t, unix.Dup3(ep, s.fd, unix.O_CLOEXEC))
	require.NoError(t, unix.Close(ep))
	s.mu.Lock() // the posts are made under mu, as the provider's are
	s.postReadable()
	s.postWritable()
	s.mu.Unlock()
}
