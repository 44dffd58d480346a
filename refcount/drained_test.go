package refcount

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The drained bit: a rundown that no reference holds completes in Begin's one
// compare-and-swap, and a Begin, Wait or WaitFunc that finds it complete makes no waiter
// block. That is what lets a socket close run down its guards without allocating.
func TestDrainedRundownMakesNoWaiterBlock(t *testing.T) {
	rs := make([]Rundown, 4*101) // AllocsPerRun calls its function runs+1 times
	k := 0
	fresh := func() *Rundown { r := &rs[k]; k++; return r }
	ran := 0
	fn := func() { ran++ } // made once, like the provider's continuations
	ctx := context.Background()
	for _, c := range []struct {
		name string
		op   func(r *Rundown)
	}{
		{"Begin", func(r *Rundown) { require.True(t, r.Begin()) }},
		{"Wait", func(r *Rundown) { require.NoError(t, r.Wait(ctx)) }},
		{"WaitFunc", func(r *Rundown) { r.WaitFunc(fn) }},
		{"used then WaitFunc", func(r *Rundown) {
			require.True(t, r.Acquire())
			r.Release()
			r.WaitFunc(fn)
			r.WaitFunc(fn) // a second one on the completed rundown: runs at once too
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var last *Rundown
			allocs := testing.AllocsPerRun(100, func() {
				last = fresh()
				c.op(last)
			})
			require.Zero(t, allocs, "a drained rundown allocated")
			require.Nil(t, last.w.Load(), "a drained rundown made a waiter block")
			require.True(t, last.Done())
			require.Equal(t, stActive|stDrained, last.state.Load())
		})
	}
	require.Equal(t, 3*101, ran, "every WaitFunc continuation ran at once, once")
}

// A waiter that finds a reference held really waits: Begin reports not drained, the
// continuation does not run, Wait blocks (until its context ends), and the Release of the
// last reference completes the rundown, running the continuation once.
func TestWaiterStillWaitsWhileHeld(t *testing.T) {
	forEach(t, func(t *testing.T, newG func() guard) {
		g := newG()
		require.True(t, g.Acquire())
		require.False(t, g.Begin(), "a reference is held")
		var ran atomic.Int32
		g.WaitFunc(func() { ran.Add(1) })
		require.Zero(t, ran.Load(), "the continuation ran while a reference is held")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		require.ErrorIs(t, g.Wait(ctx), context.DeadlineExceeded, "Wait returned while a reference is held")
		require.False(t, g.Done())
		if r, ok := g.(*Rundown); ok {
			require.NotNil(t, r.w.Load(), "a waiter waits in the block")
			require.NotZero(t, r.state.Load()&stWaiting, "the word says somebody waits")
		}
		waited := make(chan error, 1)
		go func() { waited <- g.Wait(context.Background()) }()
		g.Release()
		require.EqualValues(t, 1, ran.Load(), "the last Release ran the continuation once")
		require.True(t, g.Done())
		select {
		case err := <-waited:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			require.FailNow(t, "Wait did not return after the last Release")
		}
	})
}

// The race the drained bit opens: the Release of the last reference claims the drain
// while WaitFunc callers register. Whatever the order, once all have returned (neither
// blocks, and the Release runs the drain before it returns) every continuation has run,
// exactly once: a registration the claim missed would never run, and one that both the
// registrant and the drain took would run twice. A Wait joins the race in every round.
// Both outcomes are counted on the plain word: the drain ran the continuations from the
// waiter block (a registrant was first: stWaiting set), or the Release's claim was first
// and every registrant ran its own (stWaiting clear).
func TestWaitFuncExactlyOnceAgainstLastRelease(t *testing.T) {
	const (
		rounds  = 20000
		budget  = 3 * time.Second
		waiters = 3
	)
	forEach(t, func(t *testing.T, newG func() guard) {
		deadline := time.Now().Add(budget)
		var viaBlock, claimFirst int
		n := 0
		for ; n < rounds && time.Now().Before(deadline); n++ {
			g := newG()
			require.True(t, g.Acquire())
			if n%2 == 0 {
				g.Begin() // half the rounds: the registrants meet an active word
			}
			yield := n%4 >= 2 // half the rounds: the registrants let the Release go first

			var counts [waiters]atomic.Int32
			start := make(chan struct{})
			waitErr := make(chan error, 1)
			var wg sync.WaitGroup
			wg.Go(func() { <-start; g.Release() })
			for w := range waiters {
				wg.Go(func() {
					<-start
					if yield {
						runtime.Gosched()
					}
					g.WaitFunc(func() { counts[w].Add(1) })
				})
			}
			wg.Go(func() {
				<-start
				if yield {
					runtime.Gosched()
				}
				waitErr <- g.Wait(context.Background())
			})
			close(start)
			wg.Wait()
			for w := range waiters {
				require.EqualValues(t, 1, counts[w].Load(), "round %d: waiter %d's continuation runs", n, w)
			}
			require.NoError(t, <-waitErr)
			require.True(t, g.Done(), "round %d: not done once the last Release and every WaitFunc returned", n)
			require.Zero(t, g.Count())
			if r, ok := g.(*Rundown); ok {
				if r.state.Load()&stWaiting != 0 {
					viaBlock++
				} else {
					claimFirst++
				}
			}
		}
		t.Logf("%d rounds: drained through the block %d, claim first %d", n, viaBlock, claimFirst)
		require.Positive(t, n)
		if _, plain := newG().(*Rundown); plain {
			require.Positive(t, viaBlock, "no round had a registrant first")
			require.Positive(t, claimFirst, "no round had the Release's claim first")
		}
	})
}
