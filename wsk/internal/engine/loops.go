//go:build unix || windows

package engine

import (
	"context"
	"runtime/pprof"
	"strconv"
	"sync"
)

// loopSizes returns the number of loops and each one's Post bound that cfg asks for,
// with the defaults filled in.
func loopSizes(cfg Config) (loops, maxPosted int) {
	loops, maxPosted = cfg.Loops, cfg.MaxPosted
	if loops <= 0 {
		loops = 1
	}
	if maxPosted <= 0 {
		maxPosted = DefaultMaxPosted
	}
	return loops, maxPosted
}

// runner is a loop of either engine, as starting and closing the engine see it.
type runner interface {
	run()         // the loop goroutine's body
	requestStop() // make the loop exit at its next turn
	onLoop() bool // whether the caller is the loop goroutine
}

// startLoops starts one goroutine per loop, counted in wg and labelled with the loop's
// index for pprof.
func startLoops[L runner](wg *sync.WaitGroup, loops []L) {
	for i, l := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pprof.Do(context.Background(), pprof.Labels("gowsk.loop", strconv.Itoa(i)), func(context.Context) {
				l.run()
			})
		}()
	}
}

// stopLoops asks every loop to stop.
func stopLoops[L runner](loops []L) {
	for _, l := range loops {
		l.requestStop()
	}
}

// waitLoops waits for the goroutines counted in wg, unless the caller is one of the
// loops (it would wait for itself).
func waitLoops[L runner](wg *sync.WaitGroup, loops []L) {
	for _, l := range loops {
		if l.onLoop() {
			return
		}
	}
	wg.Wait()
}
