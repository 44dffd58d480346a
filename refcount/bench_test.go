package refcount

import (
	"sync"
	"testing"
)

// BenchmarkRundown compares one Acquire+Release pair on the plain word, the sharded
// guard and a sync.RWMutex RLock/RUnlock baseline, serially and from all Ps.
//
// Each pair is a closure over a guard made here, not inside a function literal that is
// called at once: the compiler copies a closure whose enclosing literal it inlined, and
// the copy's calls are not inlined (Acquire and Release were two real calls there while
// RLock and RUnlock were inlined, which the ratio then measured). go test -gcflags=-m
// shows every pair below inlining its two halves.
func BenchmarkRundown(b *testing.B) {
	var rw sync.RWMutex
	r := new(Rundown)
	s := NewSharded()
	cases := []struct {
		name string
		pair func()
	}{
		{"plain", func() {
			if r.Acquire() {
				r.Release()
			}
		}},
		{"sharded", func() {
			if s.Acquire() {
				s.Release()
			}
		}},
		// The empty read section is the point: it measures the lock's own cost.
		//lint:ignore SA2001 baseline for the acquire+release pair
		{"rwmutex", func() { rw.RLock(); rw.RUnlock() }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.Run("serial", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					c.pair()
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						c.pair()
					}
				})
			})
		})
	}
}

// BenchmarkRundownClose is the rundown side of one socket close: a fresh guard that no
// call holds any more is run down with a continuation (Begin finds it drained, WaitFunc
// runs the continuation at once). allocs/op is what the rundown itself allocates per
// close: the continuation is made once, like the provider's, and the guards come from
// one large slice (one allocation per 64Ki closes, which rounds to 0 allocs/op).
func BenchmarkRundownClose(b *testing.B) {
	var rs []Rundown
	ran := 0
	fn := func() { ran++ }
	b.ReportAllocs()
	for b.Loop() {
		if len(rs) == 0 {
			rs = make([]Rundown, 1<<16)
		}
		r := &rs[0]
		rs = rs[1:]
		if r.Acquire() {
			r.Release()
		}
		r.WaitFunc(fn)
	}
	if ran == 0 {
		b.Fatal("the continuation never ran")
	}
}
