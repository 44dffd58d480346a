package dispatch

import (
	"testing"

	"github.com/gowsk/gowsk/irp"
)

// BenchmarkGuardSend measures one Send through the guard to a provider that completes
// synchronously (IRP allocated from the pool and freed each time), in parallel.
func BenchmarkGuardSend(b *testing.B) {
	p := &fakeProvider{}
	s := NewSocket(p.table(), nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		buf := MakeBuf(make([]byte, 64))
		for pb.Next() {
			i := irp.Allocate(s.StackSize())
			if st := s.Connection().Send(s, &buf, 0, i); st != irp.Success {
				b.Errorf("send: %v", st)
			}
			i.Free()
		}
	})
}

// BenchmarkLayeredSend is BenchmarkGuardSend under one Counter layer.
func BenchmarkLayeredSend(b *testing.B) {
	p := &fakeProvider{}
	var c Counter
	s := NewSocket(Layer(p.table(), &c, &irp.Device{Name: "counter"}), nil)
	b.ReportAllocs()
	buf := MakeBuf(make([]byte, 64))
	for b.Loop() {
		i := irp.Allocate(s.StackSize())
		if st := s.Connection().Send(s, &buf, 0, i); st != irp.Success {
			b.Errorf("send: %v", st)
		}
		i.Free()
	}
}
