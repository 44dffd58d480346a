//go:build linux

package wsk

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Private network namespaces for the tests that use the kernel's TCP counters as an
// oracle (TESTING.md cases 27–37). Counters such as Tcp OutRsts are per namespace: in a
// fresh one, only this test's sockets move them, so "the close sent exactly one RST" can
// be asserted as a delta, whatever else runs on the machine.
//
// How a Go test gets into one: a socket lives in the namespace of the thread that called
// socket(2) (accept(2) inherits the listener's), and /proc/thread-self/net shows the
// calling thread's counters. So the test goroutine locks itself to its OS thread,
// unshares the network namespace of that thread only (the rest of the process, the
// engine loops and the other tests stay where they were), and creates every socket from
// that goroutine. Descriptors work from any thread once created: the epoll loops serve
// them from the original namespace. Cleanup moves the thread back (setns) and unlocks it;
// if that fails the thread stays locked and the runtime ends it with the goroutine, so a
// thread in a stray namespace is never reused.

// netns is one private network namespace with lo up.
type netns struct {
	fd int // an open handle on the namespace, for other goroutines to join it
}

// enterNetns moves the calling test goroutine into a new network namespace for the rest
// of the test. It returns nil (and logs why) when that is not possible — not root, no
// CAP_SYS_ADMIN, a kernel without namespaces — and the test then runs on the host's
// loopback and must skip its counter assertions (GOWSK_TEST_NO_NETNS=1 forces that path).
// Never call it from a subtest's parent and expect the subtests to be inside: each t.Run
// body is a goroutine of its own.
func enterNetns(t *testing.T) *netns {
	t.Helper()
	if os.Getenv("GOWSK_TEST_NO_NETNS") != "" {
		t.Log("GOWSK_TEST_NO_NETNS set: host loopback, kernel counters not checked")
		return nil
	}
	if os.Geteuid() != 0 {
		t.Log("not root: no private network namespace, kernel counters not checked")
		return nil
	}
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		t.Logf("no namespace handle (%v): kernel counters not checked", err)
		return nil
	}
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		unix.Close(orig)
		runtime.UnlockOSThread()
		t.Logf("unshare(CLONE_NEWNET): %v: kernel counters not checked", err)
		return nil
	}
	n := &netns{fd: -1}
	t.Cleanup(func() {
		if n.fd >= 0 {
			unix.Close(n.fd)
		}
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		unix.Close(orig)
	})
	require.NoError(t, nsLoUp(), "bringing lo up in the new namespace")
	n.fd, err = unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	return n
}

// nsLoUp sets IFF_UP on lo (the kernel then gives it 127.0.0.1/8 and ::1).
func nsLoUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// join moves the calling goroutine (not a test goroutine: no require here) into n until
// the returned leave runs. A nil n joins nothing.
func (n *netns) join() (leave func(), err error) {
	if n == nil {
		return func() {}, nil
	}
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	if err := unix.Setns(n.fd, unix.CLONE_NEWNET); err != nil {
		unix.Close(orig)
		runtime.UnlockOSThread()
		return nil, err
	}
	return func() {
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		unix.Close(orig)
	}, nil
}

// nsTCPCounters are the Tcp (/proc/net/snmp) and TcpExt (/proc/net/netstat) counters of
// the calling thread's namespace, keyed "Tcp.OutRsts", "TcpExt.TCPAbortOnData", ….
type nsTCPCounters map[string]int64

// nsCounters reads the counters of the namespace the calling goroutine is in (call it
// from the goroutine that entered the namespace).
func nsCounters(t *testing.T) nsTCPCounters {
	t.Helper()
	c := nsTCPCounters{}
	for _, f := range []string{"/proc/thread-self/net/snmp", "/proc/thread-self/net/netstat"} {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, nsParseCounters(b, c))
	}
	return c
}

// nsParseCounters reads the "Prefix: names" / "Prefix: values" line pairs of the proc
// files, keeping the Tcp and TcpExt ones.
func nsParseCounters(b []byte, into nsTCPCounters) error {
	sc := bufio.NewScanner(bytes.NewReader(b))
	var names []string
	var prefix string
	for sc.Scan() {
		p, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if names == nil || p != prefix {
			prefix, names = p, fields
			continue
		}
		if len(fields) != len(names) {
			return fmt.Errorf("%s: %d names, %d values", p, len(names), len(fields))
		}
		if p == "Tcp" || p == "TcpExt" {
			for k, v := range fields {
				x, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return fmt.Errorf("%s.%s: %w", p, names[k], err)
				}
				into[p+"."+names[k]] = x
			}
		}
		names = nil
	}
	return sc.Err()
}

// rstDelta is what a step did to the RST counters.
type rstDelta struct {
	OutRsts      int64 // Tcp OutRsts: RST segments sent
	AbortOnData  int64 // TcpExt TCPAbortOnData: linger-0 close (or data after close)
	AbortOnClose int64 // TcpExt TCPAbortOnClose: close with unread input
	AbortOther   int64 // TcpExt TCPAbortOnLinger + OnTimeout + OnMemory + Failed
}

func (d rstDelta) String() string {
	return fmt.Sprintf("OutRsts %+d, TCPAbortOnData %+d, TCPAbortOnClose %+d, other aborts %+d",
		d.OutRsts, d.AbortOnData, d.AbortOnClose, d.AbortOther)
}

func rstDeltaOf(before, after nsTCPCounters) rstDelta {
	d := func(k string) int64 { return after[k] - before[k] }
	return rstDelta{
		OutRsts:      d("Tcp.OutRsts"),
		AbortOnData:  d("TcpExt.TCPAbortOnData"),
		AbortOnClose: d("TcpExt.TCPAbortOnClose"),
		AbortOther: d("TcpExt.TCPAbortOnLinger") + d("TcpExt.TCPAbortOnTimeout") +
			d("TcpExt.TCPAbortOnMemory") + d("TcpExt.TCPAbortFailed"),
	}
}

// nsTCPState is the TCP state (tcp_states.h numbering: 1 ESTABLISHED … 7 CLOSE,
// 8 CLOSE_WAIT, 10 LISTEN) of a descriptor.
func nsTCPState(fd int) (uint8, error) {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return 0, err
	}
	return info.State, nil
}

// nsTCPClose is the TCP_CLOSE state.
const nsTCPClose = 7

// nsPeerState is the TCP state of the net peer c.
func nsPeerState(t *testing.T, c net.Conn) uint8 {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)
	var st uint8
	var serr error
	require.NoError(t, rc.Control(func(fd uintptr) { st, serr = nsTCPState(int(fd)) }))
	require.NoError(t, serr)
	return st
}

// nsWaitPeerClosed waits until the net peer's socket reached TCP_CLOSE: the RST (or the
// last ACK) has been processed, so the counters are final and the peer's next read or
// write sends no segment.
func nsWaitPeerClosed(t *testing.T, c net.Conn) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for nsPeerState(t, c) != nsTCPClose {
		require.True(t, time.Now().Before(deadline), "peer never reached TCP_CLOSE (state %d)", nsPeerState(t, c))
		time.Sleep(time.Millisecond)
	}
}

// nsWaitFDState waits until fd is in TCP state want.
func nsWaitFDState(t *testing.T, fd int, want uint8) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		st, err := nsTCPState(fd)
		require.NoError(t, err)
		if st == want {
			return
		}
		require.True(t, time.Now().Before(deadline), "fd never reached TCP state %d (state %d)", want, st)
		time.Sleep(time.Millisecond)
	}
}

// nsListenQueueLen is the number of established connections waiting in a listening
// socket's accept queue (TCP_INFO's tcpi_unacked reports sk_ack_backlog for a listener).
func nsListenQueueLen(fd int) (int, error) {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return 0, err
	}
	return int(info.Unacked), nil
}

// nsWaitListenQueue waits until listener fd holds n unaccepted connections.
func nsWaitListenQueue(t *testing.T, fd, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		q, err := nsListenQueueLen(fd)
		require.NoError(t, err)
		if q == n {
			return
		}
		require.True(t, time.Now().Before(deadline), "listen queue holds %d, want %d", q, n)
		time.Sleep(time.Millisecond)
	}
}

// nsOpenFDs counts the process's open descriptors.
func nsOpenFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(ents) - 1 // the directory handle ReadDir itself held
}
