//go:build linux

package wsk

import (
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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

// TestSendBacklogEventAfterDrain: besides the first report, WskSendBacklogEvent is called
// again once a send that had to wait for buffer space drained the queue (here SO_SNDBUF
// is fixed, so the value itself does not change).
func TestSendBacklogEventAfterDrain(t *testing.T) {
	r, npi := newReg(t)
	vals := make(chan int, 64)
	cd := &dispatch.ClientConnectionDispatch{
		SendBacklogEvent: func(_ any, v int) irp.Status { vals <- v; return irp.Success },
	}
	ws, pc := evConnect(t, npi, nil, cd)
	in := binary.LittleEndian.AppendUint32(nil, 32<<10)
	require.Equal(t, irp.Success, ws.Basic().ControlSocket(ws, dispatch.SetOption, SOSndBuf, dispatch.SOLSocket, in, nil, nil, nil))
	require.Equal(t, irp.Success, evSet(ws, dispatch.EventSendBacklog, nil))
	v := within(t, vals)
	require.Positive(t, v)

	big := make([]byte, 1<<20)
	p := send(t, ws, big)
	require.Equal(t, irp.Pending, p.ret, "1 MiB does not fit a 32 KiB send buffer")
	read := make(chan struct{})
	go func() {
		defer close(read)
		b := make([]byte, 64<<10)
		for n := 0; n < len(big); {
			m, err := pc.Read(b)
			if !assert.NoError(t, err) {
				return
			}
			n += m
		}
	}()
	io := p.wait()
	require.Equal(t, irp.Success, io.Status)
	require.EqualValues(t, len(big), io.Information)
	require.Equal(t, v, within(t, vals), "reported again once the queue drained")
	// The send completed once its bytes were in the kernel, not once the peer read them:
	// let the reader finish before the close resets the connection under it.
	within(t, read)
	closeSocketSync(t, ws)
	finish(t, r)
}

// TestDatagramEarlyRelease: a datagram list released by another goroutine before its
// ReceiveFromEvent returned STATUS_PENDING is fine; returning SUCCESS after releasing it
// is a misuse, counted.
func TestDatagramEarlyRelease(t *testing.T) {
	r, npi := newReg(t)
	var ws *dispatch.Socket
	answer := make(chan irp.Status, 4)
	released := make(chan irp.Status, 4)
	cd := &dispatch.ClientDatagramDispatch{ReceiveFromEvent: func(_ any, _ dispatch.Flags, list *dispatch.DatagramIndication) irp.Status {
		done := make(chan struct{})
		go func() {
			released <- ws.Datagram().Release(ws, list)
			close(done)
		}()
		<-done
		return <-answer
	}}
	w, addr := newDgSocket(t, npi, AFInet, nil, cd)
	ws = w
	c, _ := udpPeer(t, AFInet)
	require.Equal(t, irp.Success, setEvents(ws, dispatch.EventReceiveFrom))

	answer <- irp.Pending
	peerWrite(t, c, addr, []byte("one"))
	require.Equal(t, irp.Success, within(t, released))
	answer <- irp.Success
	peerWrite(t, c, addr, []byte("two"))
	require.Equal(t, irp.Success, within(t, released))
	require.Eventually(t, func() bool { return r.Stats().Misuse == 1 }, waitLimit, time.Millisecond)
	closeSocketSync(t, ws)
	finish(t, r)
}
