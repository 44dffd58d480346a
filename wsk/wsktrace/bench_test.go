//go:build linux

package wsktrace

import (
	"syscall"
	"testing"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
)

// BenchmarkEchoIRP is one echo between two gowsk sockets on loopback, four IRPs: the
// client's Send, the server's Receive, the server's Send back and the client's Receive,
// each IRP reused (IoReuseIrp) from one round to the next. "off" is a registration without
// WithObserver, the default. This file also builds against a tree without the provider's
// observer hooks (copied there with helpers_test.go and main_test.go), which is how their
// cost when off is measured. bench_on_test.go has the runs with the recorder installed.
func BenchmarkEchoIRP(b *testing.B) {
	b.Run("off", func(b *testing.B) { benchEcho(b, false) })
}

// BenchmarkPendingIRP is BenchmarkEchoIRP with each Receive posted before its data is
// sent, so that it goes pending (the provider's pending hook runs) and completes on the
// engine's loop: the server's Receive, the client's Send, then the client's Receive and
// the server's Send.
func BenchmarkPendingIRP(b *testing.B) {
	b.Run("off", func(b *testing.B) { benchEcho(b, true) })
}

// cpuTime is the process's user and system CPU time so far, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// cycler is one IRP used again and again, and a routine that signals its completion.
type cycler struct {
	i       *irp.IRP
	done    chan struct{}
	routine irp.CompletionRoutine
}

func newCycler(stack int) *cycler {
	c := &cycler{i: irp.Allocate(stack), done: make(chan struct{}, 1)}
	c.routine = func(*irp.Device, *irp.IRP, any) irp.Status {
		c.done <- struct{}{}
		return irp.MoreProcessingRequired
	}
	return c
}

// start makes the call fn with the IRP; wait waits for its completion (inline or later).
func (c *cycler) start(fn func(*irp.IRP) irp.Status) {
	c.i.Reuse(irp.Success)
	c.i.SetCompletionRoutine(c.routine, nil, irp.InvokeAlways)
	fn(c.i)
}

func (c *cycler) wait() irp.IoStatusBlock {
	<-c.done
	return c.i.IoStatus
}

// benchEcho measures echoes on a connection of a registration made with opts; with
// pend, each receive is posted before its data is sent.
func benchEcho(b *testing.B, pend bool, opts ...wsk.Option) {
	e := newEnv(b, opts...)
	client, server := e.connectPair()
	cc, sc := client.Connection(), server.Connection()
	ping, pong := make([]byte, 64), make([]byte, 64)
	cOut, cIn := dispatch.MakeBuf(ping), dispatch.MakeBuf(pong)
	sBuf := dispatch.MakeBuf(make([]byte, 64))
	calls := []func(*irp.IRP) irp.Status{
		func(i *irp.IRP) irp.Status { return cc.Send(client, &cOut, 0, i) },
		func(i *irp.IRP) irp.Status { return sc.Receive(server, &sBuf, dispatch.FlagWaitAll, i) },
		func(i *irp.IRP) irp.Status { return sc.Send(server, &sBuf, 0, i) },
		func(i *irp.IRP) irp.Status { return cc.Receive(client, &cIn, dispatch.FlagWaitAll, i) },
	}
	irps := []*cycler{newCycler(client.StackSize()), newCycler(server.StackSize()),
		newCycler(server.StackSize()), newCycler(client.StackSize())}
	order := [][]int{{0}, {1}, {2}, {3}} // each call started and waited for in turn
	if pend {
		order = [][]int{{1, 0}, {3, 2}} // the receive first, then the send that completes it
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		for _, group := range order {
			for _, k := range group {
				irps[k].start(calls[k])
			}
			for _, k := range group {
				if io := irps[k].wait(); io.Status != irp.Success || io.Information != 64 {
					b.Fatalf("call %d: %v, %d bytes", k, io.Status, io.Information)
				}
			}
		}
	}
	b.StopTimer()
	// CPU time of the whole process (the engine's loops included) per echo: steadier than
	// the wall time on a shared machine, where waiting for a CPU inflates ns/op.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	for _, c := range irps {
		c.i.Free()
	}
	e.close(client)
	e.close(server)
}
