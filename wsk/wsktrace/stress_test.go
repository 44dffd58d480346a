package wsktrace

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
)

// outcomes counts how the receives of TestConcurrentLifecycles ended, as their own
// completion routines saw it.
type outcomes struct {
	data, cancelled, closedOut, refused atomic.Int64
}

// Connections in parallel, each with every ending an IRP can have: data, a Cancel, the
// close, and calls racing the close that the guard refuses. The recorder's account must
// balance: every task started ends once, after its IRP's single completion; an IRP task
// exists for every admitted call and for none the guard refused; every socket's task ends
// after its children; and the recorder forgets everything.
func TestConcurrentLifecycles(t *testing.T) {
	const conns = 8
	ft := &fakeTracer{}
	rec := newRecorder(ft, nil)
	e := newEnv(t, wsk.WithObserver(rec))
	var got outcomes
	var admitted atomic.Int64 // receive calls that reached the provider
	var wg sync.WaitGroup
	for range conns {
		s, peer := e.accept()
		wg.Add(1)
		go func() {
			defer wg.Done()
			count := func(p *posted) {
				if p.returned != irp.InvalidHandle {
					admitted.Add(1)
				}
			}
			// Data: the peer's bytes complete the first receive.
			first, second, third := receive(s), receive(s), receive(s)
			_, err := peer.Write([]byte("0123456789"))
			assert.NoError(t, err)
			io := first.wait(t)
			count(first)
			if assert.Equal(t, irp.Success, io.Status) && assert.EqualValues(t, 10, io.Information) {
				got.data.Add(1)
			}
			// A Cancel.
			assert.True(t, second.i.Cancel())
			io = second.wait(t)
			count(second)
			if assert.Equal(t, irp.Cancelled, io.Status) {
				got.cancelled.Add(1)
			}
			// The close, with the third still pending and receives racing it.
			// The close starts once the racer posted one receive, so the racer's calls
			// run into the close; it stops at its first refusal.
			racing := make(chan *posted, 1000)
			posting := make(chan struct{})
			go func() {
				defer close(racing)
				for k := range 1000 {
					p := receive(s)
					racing <- p
					if k == 0 {
						close(posting)
					}
					if p.returned == irp.InvalidHandle {
						return
					}
					runtime.Gosched() // let the close run, on one P too
				}
			}()
			<-posting
			e.close(s)
			io = third.wait(t)
			count(third)
			if assert.Equal(t, irp.Cancelled, io.Status) {
				got.closedOut.Add(1)
			}
			for p := range racing {
				io := p.wait(t)
				count(p)
				switch {
				case p.returned == irp.InvalidHandle && io.Status == irp.InvalidHandle:
					got.refused.Add(1)
				case p.returned == irp.Pending && io.Status == irp.Cancelled:
					got.closedOut.Add(1)
				default:
					assert.Failf(t, "racing receive", "returned %v, completed %v", p.returned, io.Status)
				}
			}
		}()
	}
	wg.Wait()
	e.closeListen()
	t.Logf("receives: %d with data, %d cancelled, %d cancelled by the close, %d refused",
		got.data.Load(), got.cancelled.Load(), got.closedOut.Load(), got.refused.Load())
	require.EqualValues(t, conns, got.data.Load())
	require.EqualValues(t, conns, got.cancelled.Load())
	require.GreaterOrEqual(t, got.closedOut.Load(), int64(2*conns))
	require.NotZero(t, got.refused.Load(), "no receive was refused by a closing socket")

	// The account.
	events := ft.snapshot()
	type taskState struct {
		kind, parent       string
		ended, completions int
		submittedFirst     bool
		logs               int
	}
	tasks := map[int]*taskState{}
	endOrder := map[int]int{}
	statuses := map[string]int{}
	for n, ev := range events {
		kind, id, rest := fields(ev)
		ts := tasks[id]
		switch kind {
		case "task":
			typ, parent, _ := strings.Cut(rest, " parent ")
			require.Nil(t, ts, "task %d started twice", id)
			tasks[id] = &taskState{kind: typ, parent: parent}
			continue
		case "end":
			require.NotNil(t, ts, "task %d ended before it started", id)
			ts.ended++
			endOrder[id] = n
			continue
		}
		require.NotNil(t, ts, "event on unknown task: %s", ev)
		require.Zero(t, ts.ended, "event after the end of task %d: %s", id, ev)
		if kind != "log" || ts.kind == "socket" {
			continue
		}
		ts.logs++
		if ts.logs == 1 {
			ts.submittedFirst = rest == "irp: submitted"
		}
		if status, ok := strings.CutPrefix(rest, "irp: completed "); ok {
			ts.completions++
			st, _, _ := strings.Cut(status, ",")
			statuses[ts.kind+" "+st]++
		}
	}
	sockets, irps := 0, 0
	for id, ts := range tasks {
		require.Equal(t, 1, ts.ended, "task %d (%s) ended %d times", id, ts.kind, ts.ended)
		if ts.kind == "socket" {
			sockets++
			continue
		}
		irps++
		require.True(t, ts.submittedFirst, "task %d (%s) does not begin with submitted", id, ts.kind)
		require.Equal(t, 1, ts.completions, "task %d (%s) completed %d times", id, ts.kind, ts.completions)
		var parent int
		_, err := fmt.Sscan(ts.parent, &parent)
		require.NoError(t, err)
		require.Less(t, endOrder[id], endOrder[parent], "task %d ends after its socket's task", id)
	}
	t.Logf("tasks: %d sockets, %d IRPs; completions %v", sockets, irps, statuses)
	require.Equal(t, conns+1, sockets)
	require.EqualValues(t, admitted.Load(), statuses["WskReceive STATUS_SUCCESS"]+
		statuses["WskReceive STATUS_CANCELLED"], "one WskReceive task per admitted receive")
	require.EqualValues(t, got.data.Load(), statuses["WskReceive STATUS_SUCCESS"])
	require.EqualValues(t, got.cancelled.Load()+got.closedOut.Load(), statuses["WskReceive STATUS_CANCELLED"])
	require.Equal(t, conns+1, statuses["WskCloseSocket STATUS_SUCCESS"])
	requireForgotten(t, rec)
}
