package refcount

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A drain (the WaitFunc continuations) runs only in Release, Begin, Wait or WaitFunc, never
// inside an Acquire: so an Acquire may be made with a lock held that a continuation takes.
// The shape comes from the provider: its loop acquires the callbacks rundown under the
// socket's lock while close queues a continuation that takes that lock. When a refused
// acquire could complete the rundown, the loop ran that continuation with the lock held
// and deadlocked on itself.
//
// Each round: a spinner acquires under mu until it is refused; a closer begins the rundown
// with a continuation that takes mu. A round that hangs fails the test.
func TestAcquireUnderLockNeverRunsTheDrain(t *testing.T) {
	const (
		rounds = 20000
		budget = 3 * time.Second
		limit  = 2 * time.Second // a round slower than this is a deadlock
	)
	forEach(t, func(t *testing.T, newG func() guard) {
		deadline := time.Now().Add(budget)
		var ran, refusedFirst int
		n := 0
		for ; n < rounds && time.Now().Before(deadline); n++ {
			g := newG()
			var mu sync.Mutex
			holding := make(chan struct{})
			spun := make(chan struct{})
			go func() { // the loop: acquire under its lock until refused
				defer close(spun)
				for k := 0; ; k++ {
					mu.Lock()
					ok := g.Acquire()
					mu.Unlock()
					if !ok {
						return
					}
					if k == 0 {
						close(holding)
					}
					g.Release()
				}
			}()
			<-holding
			drained := make(chan bool, 1)
			g.WaitFunc(func() { // close's continuation: takes the loop's lock
				mu.Lock()
				//lint:ignore SA2001 taking the lock is all the continuation has to do
				mu.Unlock()
				drained <- true
			})
			select {
			case <-drained:
				ran++
			case <-time.After(limit):
				require.FailNow(t, "the drain ran inside a refused Acquire, under the lock it takes",
					"round %d", n)
			}
			select {
			case <-spun:
				refusedFirst++
			case <-time.After(limit):
				require.FailNow(t, "the spinner was never refused", "round %d", n)
			}
		}
		t.Logf("%d rounds, %d drains ran, %d spinners refused", n, ran, refusedFirst)
		require.Equal(t, n, ran, "every round's drain ran exactly once")
		require.Equal(t, n, refusedFirst, "every round's spinner met the rundown")
	})
}

// A refused Acquire writes nothing: the word (or the shards) is the same before and after,
// so there is no moment at which the refused caller could be the one to empty it.
func TestRefusedAcquireLeavesTheStateAlone(t *testing.T) {
	var r Rundown
	require.True(t, r.Acquire())
	r.Begin()
	before := r.state.Load()
	require.False(t, r.Acquire())
	require.ErrorIs(t, r.TryAcquireN(3), ErrRundown)
	require.Equal(t, before, r.state.Load())
	r.Release()
	require.True(t, r.Done())

	s := NewSharded()
	require.True(t, s.Acquire())
	s.Begin()
	snap := func() []int64 {
		v := make([]int64, len(s.shards))
		for i := range s.shards {
			v[i] = s.shards[i].n.Load()
		}
		return v
	}
	b := snap()
	for range 64 { // every shard is picked by chance: try them all
		require.False(t, s.Acquire())
	}
	require.Equal(t, b, snap())
	s.Release()
	require.True(t, s.Done())
}
