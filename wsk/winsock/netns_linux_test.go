//go:build linux

package winsock_test

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/gowsk/gowsk/wsk/winsock"
)

// ownNetns moves the test goroutine, locked to its OS thread, into a fresh network
// namespace with lo up, so that /proc/thread-self/net/tcp lists this test's sockets
// only (a socket belongs to the namespace of the thread that created it; accept
// inherits the listener's). It reports false, and the test skips, when that is not
// possible (not root, no namespaces). Cleanup moves the thread back; if that fails the
// thread stays locked and ends with the goroutine.
func ownNetns(t *testing.T) bool {
	if os.Geteuid() != 0 {
		return false
	}
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return false
	}
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		unix.Close(orig)
		runtime.UnlockOSThread()
		return false
	}
	t.Cleanup(func() {
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		unix.Close(orig)
	})
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	require.NoError(t, err)
	require.NoError(t, unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr))
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	require.NoError(t, unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr))
	return true
}

// tcpStates returns the kernel's TCP states (hex, as /proc/net/tcp has them: 06 is
// TIME_WAIT) of the sockets whose local port is port, in the calling thread's namespace.
func tcpStates(t *testing.T, port uint16) []string {
	f, err := os.Open("/proc/thread-self/net/tcp")
	require.NoError(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	want := fmt.Sprintf(":%04X", port)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) > 3 && strings.HasSuffix(fs[1], want) {
			out = append(out, fs[3])
		}
	}
	return out
}

// The kernel confirms TIME_WAIT, or its absence: a {0,*} close that ends gracefully
// leaves the closing side in TIME_WAIT (it sent the first FIN); a {1,0} close leaves
// nothing (invariant 43).
func TestTimeWaitByLinger(t *testing.T) {
	if !ownNetns(t) {
		t.Skip("needs root for a private network namespace")
	}
	w, th := session(t)
	for _, c := range []struct {
		name     string
		linger   winsock.Linger
		timeWait bool
	}{
		{"{0,*}", winsock.Linger{}, true},
		{"{1,0}", winsock.Linger{OnOff: 1}, false},
	} {
		s, peer := dialPeer(t, th)
		local, err := th.GetSockName(s)
		require.NoError(t, err)
		setLinger(t, th, s, c.linger.OnOff, c.linger.Linger)
		require.NoError(t, th.Closesocket(s))
		saw := drain(peer)
		require.NoError(t, peer.Close())
		require.Eventually(t, func() bool { return w.Stats().BackgroundCloses == 0 }, waitLimit, time.Millisecond)
		// Polled here, not in require.Eventually: its condition runs on another goroutine,
		// whose thread is not in the namespace.
		var states []string
		ok := false
		for deadline := time.Now().Add(waitLimit); !ok && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			states = tcpStates(t, local.Port())
			has := len(states) == 1 && states[0] == "06"
			ok = has == c.timeWait && (c.timeWait || len(states) == 0)
		}
		require.True(t, ok, "%s: states %v", c.name, states)
		t.Logf("linger %s: peer saw %v; kernel states of the local port: %v (06 = TIME_WAIT)", c.name, saw, states)
	}
}
