package refcount

import (
	"sync"
	"testing"
)

// BenchmarkRundown compares one Acquire+Release pair on the plain word, the sharded
// guard and a sync.RWMutex RLock/RUnlock baseline, serially and from all Ps.
func BenchmarkRundown(b *testing.B) {
	var rw sync.RWMutex
	cases := []struct {
		name string
		pair func()
	}{
		{"plain", func() func() {
			r := new(Rundown)
			return func() {
				if r.Acquire() {
					r.Release()
				}
			}
		}()},
		{"sharded", func() func() {
			s := NewSharded()
			return func() {
				if s.Acquire() {
					s.Release()
				}
			}
		}()},
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
