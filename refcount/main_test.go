package refcount

import (
	"context"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// guard is the method set shared by Rundown and Sharded, so one table-driven suite
// proves the cache-aware variant has the same observable semantics (invariant 41).
type guard interface {
	Acquire() bool
	TryAcquire() error
	AcquireN(n uint32) bool
	TryAcquireN(n uint32) error
	Release()
	ReleaseN(n uint32)
	Wait(ctx context.Context) error
	WaitFunc(fn func())
	Begin() bool
	Active() bool
	Done() bool
	Count() int
	ReInit() error
}

var (
	_ guard = (*Rundown)(nil)
	_ guard = (*Sharded)(nil)
)

var variants = []struct {
	name string
	new  func() guard
}{
	{"plain", func() guard { return new(Rundown) }},
	{"sharded", func() guard { return NewSharded() }},
}

func forEach(t *testing.T, f func(t *testing.T, newG func() guard)) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) { f(t, v.new) })
	}
}

// withVerifier runs f with verifier mode set to on and restores it.
func withVerifier(t *testing.T, on bool) {
	was := SetVerifier(on)
	t.Cleanup(func() { SetVerifier(was) })
}
