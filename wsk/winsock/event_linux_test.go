//go:build linux

package winsock_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/wsk/winsock"
)

func TestWaitForMultipleEvents(t *testing.T) {
	_, th := session(t)
	a, b := winsock.WSACreateEvent(), winsock.WSACreateEvent()
	evs := []*winsock.Event{a, b}
	require.Equal(t, winsock.WaitTimeout, th.WSAWaitForMultipleEvents(evs, false, 10*time.Millisecond, false))
	require.True(t, winsock.WSASetEvent(b))
	require.Equal(t, winsock.WaitObject0+1, th.WSAWaitForMultipleEvents(evs, false, 0, false))
	require.Equal(t, winsock.WaitTimeout, th.WSAWaitForMultipleEvents(evs, true, 10*time.Millisecond, false), "not all set")
	go func() { time.Sleep(10 * time.Millisecond); winsock.WSASetEvent(a) }()
	require.Equal(t, winsock.WaitObject0, th.WSAWaitForMultipleEvents(evs, true, waitLimit, false))
	require.True(t, winsock.WSAResetEvent(a))
	require.False(t, a.IsSet())
	require.Equal(t, winsock.WaitFailed, th.WSAWaitForMultipleEvents(nil, false, 0, false))
	require.Equal(t, winsock.WaitFailed, th.WSAWaitForMultipleEvents(make([]*winsock.Event, 65), false, 0, false))
	require.True(t, winsock.WSACloseEvent(a))
	require.False(t, winsock.WSACloseEvent(a), "a second close")
	require.False(t, winsock.WSASetEvent(a))
	require.Equal(t, winsock.WaitFailed, th.WaitForSingleObjectEx(a, 0, false))
	require.Equal(t, winsock.WaitFailed, th.WaitForSingleObjectEx(nil, 0, false))
	require.False(t, winsock.WSASetEvent(nil))
}
