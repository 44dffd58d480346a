//go:build unix

package engine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestPortableRegisterRules: bad input, a double registration (EEXIST), a number reused
// after the owner closed it without unregistering (the dead registration is retired),
// and a descriptor the poller cannot watch.
func TestPortableRegisterRules(t *testing.T) {
	e := newPortableEngine(t, Config{Loops: 1})
	_, err := e.Register(-1, newRecorder(0))
	require.ErrorIs(t, err, ErrBadFD)
	_, err = e.Register(0, nil)
	require.ErrorIs(t, err, ErrBadFD)

	a, b := tcpPair(t)
	defer unix.Close(b)
	f1, err := e.Register(a, newRecorder(a))
	require.NoError(t, err)
	_, err = e.Register(a, newRecorder(a))
	require.ErrorIs(t, err, unix.EEXIST, "double registration")
	require.Equal(t, f1.Loop(), e.LoopOf(a))

	// Owner bug: close while registered, then a new socket under the same number.
	require.NoError(t, unix.Close(a))
	c, d := tcpPair(t)
	defer unix.Close(d)
	require.NoError(t, unix.Dup2(c, a))
	require.NoError(t, unix.Close(c))
	fresh := newRecorder(a)
	f2, err := e.Register(a, fresh)
	require.NoError(t, err, "a reused number retires the dead registration")
	require.ErrorIs(t, f1.Unregister(), ErrNotRegistered)
	_, err = unix.Write(d, []byte("ok"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return fresh.bytes.Load() == 2 }, hangGuard, time.Millisecond)
	require.Equal(t, int64(1), e.Stats().Registered)
	require.Eventually(t, func() bool { return e.Stats().Waiters == 2 }, hangGuard, time.Millisecond,
		"the retired registration's waiters end")
	require.NoError(t, f2.UnregisterCloseFunc(func() { assert.NoError(t, unix.Close(a)) }))

	var p [2]int
	require.NoError(t, unix.Pipe(p[:]))
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	_, err = e.Register(p[0], newRecorder(p[0]))
	require.ErrorIs(t, err, ErrBadFD, "a blocking descriptor is not pollable")
	requireNoWaiters(t, e)
}
