//go:build unix || windows

package wsk

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// TestReceiveEventEarlyRelease: an application may hand a list to another goroutine that
// releases it before the callback returned STATUS_PENDING (SPEC.md §2.8); that is no misuse, the
// list is released once, and delivery goes on.
func TestReceiveEventEarlyRelease(t *testing.T) {
	r, npi := newReg(t)
	var ws *dispatch.Socket
	released := make(chan irp.Status, 8)
	data := make(chan string, 8)
	lists := make(chan *dispatch.DataIndication, 8)
	cd := &dispatch.ClientConnectionDispatch{
		ReceiveEvent: func(_ any, _ dispatch.Flags, list *dispatch.DataIndication, _ int, _ *int) irp.Status {
			data <- string(listBytes(list))
			lists <- list
			done := make(chan struct{})
			go func() { // the worker that owns the list from now on
				released <- ws.Connection().Release(ws, list)
				close(done)
			}()
			<-done
			return irp.Pending
		},
	}
	ws, pc := evConnect(t, npi, nil, cd)
	require.Equal(t, irp.Success, evSet(ws, dispatch.EventReceive, nil))
	writePeer(t, pc, "early")
	got := within(t, data)
	require.Equal(t, irp.Success, within(t, released))
	for len(got) < 5 {
		got += within(t, data)
		require.Equal(t, irp.Success, within(t, released))
	}
	require.Equal(t, "early", got)
	first := within(t, lists)
	require.Eventually(t, func() bool { // the callback returned: the list is settled
		s := sockOf(ws)
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.gate.running == 0
	}, waitLimit, time.Millisecond)
	require.Equal(t, irp.InvalidParameter, ws.Connection().Release(ws, first), "released once")
	writePeer(t, pc, "later")
	got = within(t, data)
	require.Equal(t, irp.Success, within(t, released))
	for len(got) < 5 {
		got += within(t, data)
		require.Equal(t, irp.Success, within(t, released))
	}
	require.Equal(t, "later", got)
	closeSocketSync(t, ws)
	require.Zero(t, r.Stats().Misuse)
	finish(t, r)
}

// TestReceiveEventRetainedBound: the bytes the application retains count against
// Limits.MaxQueuedBytesPerSocket. Past half of it the indications carry
// WSK_FLAG_RELEASE_ASAP; at the bound the delivery stops (the bytes wait in the kernel)
// and Release resumes it, with nothing lost.
func TestReceiveEventRetainedBound(t *testing.T) {
	r, npi := newReg(t, WithLimits(Limits{MaxQueuedBytesPerSocket: 8}))
	type ind struct {
		list     *dispatch.DataIndication
		b        string
		flags    dispatch.Flags
		released bool
	}
	var releasedFirst atomic.Bool
	inds := make(chan ind, 8)
	cd := &dispatch.ClientConnectionDispatch{
		ReceiveEvent: func(_ any, f dispatch.Flags, list *dispatch.DataIndication, n int, _ *int) irp.Status {
			inds <- ind{list, string(listBytes(list)), f, releasedFirst.Load()}
			return irp.Pending
		},
	}
	ws, pc := evConnect(t, npi, nil, cd)
	require.Equal(t, irp.Success, evSet(ws, dispatch.EventReceive, nil))
	writePeer(t, pc, "abcd")
	first := within(t, inds)
	require.Equal(t, "abcd", first.b)
	require.Zero(t, first.flags&dispatch.FlagReleaseASAP, "4 of 8 bytes retained: no hurry")
	writePeer(t, pc, "efgh")
	second := within(t, inds)
	require.Equal(t, "efgh", second.b)
	require.NotZero(t, second.flags&dispatch.FlagReleaseASAP, "8 of 8 bytes retained")

	writePeer(t, pc, "ijkl") // the bound is reached: these wait in the kernel
	releasedFirst.Store(true)
	require.Equal(t, irp.Success, ws.Connection().Release(ws, first.list))
	third := within(t, inds)
	require.True(t, third.released, "delivered only after a Release made room")
	require.Equal(t, "ijkl", third.b)
	for _, l := range []*dispatch.DataIndication{second.list, third.list} {
		require.Equal(t, irp.Success, ws.Connection().Release(ws, l))
	}
	closeSocketSync(t, ws)
	require.Zero(t, r.Stats().Misuse)
	finish(t, r)
}
