package wsk

import (
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// waitLimit bounds every wait in the tests: a hang fails instead of stalling the run.
const waitLimit = 10 * time.Second

// pcall is one WSK call made with a fresh IRP whose completion routine checks the IRP
// contract (invariants 9-11): completed exactly once; a non-pending return means the IRP
// was already completed with that very status and PendingReturned clear; a Pending return
// means the routine saw PendingReturned set, and the reverse.
type pcall struct {
	t     testing.TB
	i     *irp.IRP
	ret   irp.Status
	done  chan struct{}
	count atomic.Int32

	// Written by the routine before done is closed.
	io              irp.IoStatusBlock
	pendingReturned bool
}

// start makes the call fn(i) with an IRP of stack locations and checks the synchronous
// half of the contract.
func start(t testing.TB, stack int, fn func(*irp.IRP) irp.Status) *pcall {
	t.Helper()
	p := &pcall{t: t, done: make(chan struct{}), i: irp.Allocate(stack)}
	p.i.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		if p.count.Add(1) != 1 {
			assert.Fail(t, "IRP completed more than once")
			return irp.MoreProcessingRequired
		}
		p.pendingReturned = i.PendingReturned()
		p.io = i.IoStatus
		close(p.done)
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	p.ret = fn(p.i)
	// assert, not require: start also runs on helper goroutines in the race tests.
	if p.ret != irp.Pending {
		select {
		case <-p.done:
			assert.Equal(t, p.ret, p.io.Status, "a non-pending return equals IoStatus.Status")
			assert.False(t, p.pendingReturned, "PendingReturned set on a synchronous completion")
		default:
			assert.Failf(t, "call returned without completing its IRP", "returned %v", p.ret)
		}
	}
	return p
}

// wait waits for the completion and checks the Pending ⇔ PendingReturned half.
func (p *pcall) wait() irp.IoStatusBlock {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(waitLimit):
		failStuck(p.t, "IRP never completed")
	}
	require.Equal(p.t, p.ret == irp.Pending, p.pendingReturned, "Pending return ⇔ PendingReturned")
	require.EqualValues(p.t, 1, p.count.Load())
	p.i.Free()
	return p.io
}

// completed reports whether the IRP has completed, without waiting.
func (p *pcall) completed() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// do is start + wait.
func do(t testing.TB, stack int, fn func(*irp.IRP) irp.Status) irp.IoStatusBlock {
	t.Helper()
	return start(t, stack, fn).wait()
}

// newReg registers with version 1.0 and captures the NPI; cleanup closes nothing: tests
// that create sockets close them and call finish.
func newReg(t testing.TB, opts ...Option) (*Registration, ProviderNPI) {
	t.Helper()
	r, st := Register(&ClientNPI{Dispatch: &dispatch.ClientDispatch{Version: dispatch.MakeVersion(1, 0)}}, opts...)
	require.Equal(t, irp.Success, st)
	npi, st := r.CaptureProviderNPI(dispatch.NoWait)
	require.Equal(t, irp.Success, st)
	return r, npi
}

// finish releases the capture, deregisters (which waits for every socket to be closed)
// and checks that nothing went wrong on the way.
func finish(t testing.TB, r *Registration) {
	t.Helper()
	r.ReleaseProviderNPI()
	done := make(chan struct{})
	go func() { r.Deregister(); close(done) }()
	select {
	case <-done:
	case <-time.After(waitLimit):
		failStuck(t, "Deregister did not return: a socket, capture or IRP was left behind")
	}
	st := r.Stats()
	require.Zero(t, st.EnginePanics, "panics on the engine loops")
	require.Zero(t, st.SocketsOpen)
	require.Zero(t, st.IRPsPending)
	require.Zero(t, st.Captures)
}

// closeIRPReporting allocates a close IRP for ws whose completion routine sends the final
// status on the returned channel (and keeps the IRP: MoreProcessingRequired). For tests
// that close from somewhere the ordinary helpers cannot wait, such as a completion routine.
func closeIRPReporting(ws *dispatch.Socket) (*irp.IRP, <-chan irp.Status) {
	closed := make(chan irp.Status, 1)
	i := irp.Allocate(ws.StackSize())
	i.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		closed <- i.IoStatus.Status
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	return i, closed
}

// failStuck ends a test whose wait timed out. A hang is the one failure the log cannot
// explain by itself, so the stacks of every goroutine go into it first: which close step,
// loop or callback was waiting on what.
func failStuck(t testing.TB, msg string) {
	t.Helper()
	var b strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
	t.Logf("goroutines when the wait gave up:\n%s", b.String())
	require.FailNow(t, msg)
}
