package dispatch

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowsk/gowsk/irp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGuardAfterClose: after CloseSocket no member reaches the provider; each call
// completes its IRP exactly once with InvalidHandle (invariant 21).
func TestGuardAfterClose(t *testing.T) {
	p := &fakeProvider{}
	s := NewSocket(p.table(), nil)
	cl := newTracked(s.StackSize(), nil)
	require.Equal(t, irp.Pending, s.Basic().CloseSocket(s, cl.irp))
	require.Equal(t, int32(1), cl.completions.Load())
	require.Equal(t, irp.Success, cl.Status())
	require.True(t, s.Closing())
	cl.irp.Free()

	d := s.Connection()
	var buf Buf
	var addr netip.AddrPort
	calls := map[string]func(i *irp.IRP) irp.Status{
		"CloseSocket": func(i *irp.IRP) irp.Status { return d.CloseSocket(s, i) },
		"ControlSocket": func(i *irp.IRP) irp.Status {
			return d.ControlSocket(s, SetOption, SOWskEventCallback, SOLSocket, nil, nil, nil, i)
		},
		"Bind":             func(i *irp.IRP) irp.Status { return d.Bind(s, addr, 0, i) },
		"Connect":          func(i *irp.IRP) irp.Status { return d.Connect(s, addr, 0, i) },
		"GetLocalAddress":  func(i *irp.IRP) irp.Status { return d.GetLocalAddress(s, &addr, i) },
		"GetRemoteAddress": func(i *irp.IRP) irp.Status { return d.GetRemoteAddress(s, &addr, i) },
		"Send":             func(i *irp.IRP) irp.Status { return d.Send(s, &buf, 0, i) },
		"Receive":          func(i *irp.IRP) irp.Status { return d.Receive(s, &buf, 0, i) },
		"Disconnect":       func(i *irp.IRP) irp.Status { return d.Disconnect(s, &buf, 0, i) },
		"ConnectEx":        func(i *irp.IRP) irp.Status { return d.ConnectEx(s, addr, &buf, 0, i) },
	}
	for name, call := range calls {
		tr := newTracked(s.StackSize(), nil)
		require.Equal(t, irp.InvalidHandle, call(tr.irp), name)
		require.Equal(t, int32(1), tr.completions.Load(), name)
		require.Equal(t, irp.InvalidHandle, tr.Status(), name)
		tr.irp.Free()
	}
	require.Equal(t, irp.InvalidHandle, d.Release(s, &DataIndication{}))
	require.Equal(t, irp.InvalidHandle, d.ControlSocket(s, GetOption, 0, SOLSocket, nil, nil, nil, nil))
	require.Zero(t, p.calls.Load(), "no call may reach the provider after close")
	require.Equal(t, int64(1), p.closes.Load())
}

// TestGuardBadInput: nil IRPs, reserved members and nil sockets give clear statuses.
func TestGuardBadInput(t *testing.T) {
	p := &fakeProvider{}
	s := NewSocket(p.table(), nil)
	d := s.Connection()
	require.Equal(t, irp.InvalidParameter, d.Send(s, &Buf{}, 0, nil))
	require.Equal(t, irp.InvalidParameter, d.CloseSocket(s, nil))
	require.False(t, s.Closing(), "a refused close must not start closing")
	require.Equal(t, irp.InvalidParameter, d.Release(nil, nil))
	for _, f := range []ReservedFunc{d.SendEx, d.ReceiveEx} {
		tr := newTracked(s.StackSize(), nil)
		require.Equal(t, irp.NotSupported, f(s, tr.irp))
		require.Equal(t, int32(1), tr.completions.Load())
		tr.irp.Free()
	}
	// A socket whose table is of no known type refuses everything.
	bad := NewSocket(42, nil)
	tr := newTracked(1, nil)
	require.Equal(t, irp.InvalidHandle, bad.Basic().CloseSocket(bad, tr.irp))
	require.Equal(t, int32(1), tr.completions.Load())
	tr.irp.Free()
	// A nil member of the provider's table gives NotSupported, the IRP completed.
	s2 := NewSocket(&ListenDispatch{}, nil)
	tr = newTracked(1, nil)
	require.Equal(t, irp.NotSupported, s2.Listen().Bind(s2, netip.AddrPort{}, 0, tr.irp))
	require.Equal(t, int32(1), tr.completions.Load())
	tr.irp.Free()
	require.Zero(t, p.calls.Load())
}

// raceStats sums what the close race observed over all rounds.
type raceStats struct {
	accepted, refused    atomic.Int64
	submitted, completed atomic.Int64
	lost, doubled        atomic.Int64 // IRPs completed 0 times / more than once
	afterClose           atomic.Int64 // calls that reached the provider after its close
	closeEarly           atomic.Int64 // provider close ran with calls in flight or unreturned
	other                atomic.Int64 // statuses other than Success/InvalidHandle
}

// raceClose runs rounds of workers calling Send through the guard while CloseSocket runs
// at a random point (fdMutex style: a start gate and varying Gosched placement).
func raceClose(t *testing.T, rounds int, st *raceStats) {
	const workers, perWorker = 6, 16
	buf := MakeBuf(make([]byte, 8))
	for r := range rounds {
		p := &fakeProvider{gosched: r%2 == 0}
		s := NewSocket(p.table(), nil)
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				<-gate
				for k := range perWorker {
					if (w+k+r)%3 == 0 {
						runtime.Gosched()
					}
					tr := newTracked(s.StackSize(), &st.completed)
					st.submitted.Add(1)
					b := buf
					switch got := s.Connection().Send(s, &b, 0, tr.irp); got {
					case irp.Success:
						st.accepted.Add(1)
					case irp.InvalidHandle:
						st.refused.Add(1)
					default:
						st.other.Add(1)
					}
					switch tr.completions.Load() {
					case 0:
						st.lost.Add(1)
					case 1:
					default:
						st.doubled.Add(1)
					}
					tr.irp.Free()
				}
			})
		}
		cl := newTracked(s.StackSize(), &st.completed)
		st.submitted.Add(1)
		delay := rand.IntN(workers * perWorker / 2)
		var closeStatus irp.Status
		wg.Go(func() {
			<-gate
			for range delay {
				runtime.Gosched()
			}
			closeStatus = s.Basic().CloseSocket(s, cl.irp)
		})
		close(gate)
		wg.Wait()
		assert.Equal(t, irp.Pending, closeStatus)
		// Every accepted call has returned: the close must have run and completed.
		if cl.completions.Load() != 1 {
			st.lost.Add(1)
		}
		cl.irp.Free()
		st.afterClose.Add(p.afterClose.Load())
		// The close IRP completed last: when the provider's close ran, nothing was in
		// flight and every call that ever reached the provider had already returned.
		if p.closeInflight.Load() != 0 || p.closeReturned.Load() != p.calls.Load() || p.closes.Load() != 1 {
			st.closeEarly.Add(1)
		}
	}
}

// TestGuardRaceClose: calls racing close are either accepted (and close waits for them)
// or refused with InvalidHandle; none reaches the provider after its close; every IRP
// completes exactly once.
func TestGuardRaceClose(t *testing.T) {
	before := violations()
	rounds := 1000
	if testing.Short() {
		rounds = 60
	}
	var st raceStats
	raceClose(t, rounds, &st)
	require.Positive(t, st.accepted.Load(), "no call was accepted")
	require.Positive(t, st.refused.Load(), "no call was refused")
	require.Zero(t, st.other.Load())
	require.Zero(t, st.afterClose.Load(), "calls reached the provider after close")
	require.Zero(t, st.closeEarly.Load(), "provider close ran before all accepted calls returned")
	require.Zero(t, st.lost.Load())
	require.Zero(t, st.doubled.Load())
	require.Equal(t, st.submitted.Load(), st.completed.Load(), "submitted == completed")
	require.Equal(t, before, violations(), "irp contract violations")
}

// TestCloseFromCompletionRoutine: closing the socket from the completion routine of a
// call still inside the guard does not deadlock; the provider's close runs when that
// call releases its reference, before the call returns to its caller.
func TestCloseFromCompletionRoutine(t *testing.T) {
	p := &fakeProvider{}
	s := NewSocket(p.table(), nil)
	cl := newTracked(s.StackSize(), nil)
	send := irp.Allocate(s.StackSize())
	var closeStatus irp.Status
	var closedInside int32 = -1
	send.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		closeStatus = s.Basic().CloseSocket(s, cl.irp)
		closedInside = cl.completions.Load() // the send still holds the rundown
		return irp.ContinueCompletion
	}, nil, irp.InvokeAlways)
	done := make(chan irp.Status, 1)
	go func() {
		b := MakeBuf([]byte("x"))
		done <- s.Connection().Send(s, &b, 0, send)
	}()
	select {
	case got := <-done:
		require.Equal(t, irp.Success, got)
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock: close from a completion routine never finished")
	}
	require.Equal(t, irp.Pending, closeStatus)
	require.Equal(t, int32(0), closedInside, "close must wait for the call holding the rundown")
	require.Equal(t, int32(1), cl.completions.Load())
	require.Equal(t, int64(1), p.closes.Load())
	send.Free()
	cl.irp.Free()
}

// TestLayerCounter: a Counter layer counts calls and completions per member and the
// socket needs one more stack location.
func TestLayerCounter(t *testing.T) {
	p := &fakeProvider{}
	var c Counter
	tbl := Layer(p.table(), &c, &irp.Device{Name: "counter"})
	require.IsType(t, &ConnectionDispatch{}, tbl)
	s := NewSocket(tbl, nil)
	require.Equal(t, 2, s.StackSize())
	require.Equal(t, ConnectionSocket, s.Category())
	require.Equal(t, 3, NewSocket(Layer(tbl, &Counter{}, nil), nil).StackSize())
	for range 3 {
		tr := newTracked(s.StackSize(), nil)
		b := MakeBuf([]byte("abc"))
		require.Equal(t, irp.Success, s.Connection().Send(s, &b, 0, tr.irp))
		require.Equal(t, int32(1), tr.completions.Load())
		tr.irp.Free()
	}
	require.Equal(t, irp.Success, s.Connection().Release(s, &DataIndication{}))
	cl := newTracked(s.StackSize(), nil)
	require.Equal(t, irp.Pending, s.Basic().CloseSocket(s, cl.irp))
	require.Equal(t, int32(1), cl.completions.Load())
	cl.irp.Free()
	snap := c.Snapshot()
	require.Equal(t, uint64(3), snap.Calls[MemberSend])
	require.Equal(t, uint64(3), snap.Completions[MemberSend])
	require.Equal(t, uint64(1), snap.Calls[MemberRelease])
	require.Equal(t, uint64(0), snap.Completions[MemberRelease])
	require.Equal(t, uint64(1), snap.Calls[MemberCloseSocket])
	require.Equal(t, uint64(1), snap.Completions[MemberCloseSocket])
	require.Nil(t, Layer((*ConnectionDispatch)(nil), &c, nil))
	require.Nil(t, Layer(p.table(), nil, nil))
}
