package irp

import "sync"

// maxPooledStack is the largest stack size with its own pool. WSK IRPs need one or
// two locations; bigger stacks are still pooled, in the last bucket by exact size check.
const maxPooledStack = 8

// pools[n] holds freed IRPs with exactly n stack locations, so a reused IRP keeps
// its stack slice and Allocate does not allocate in steady state. A pooled IRP is Freed
// and was reset by Free.
var pools [maxPooledStack + 1]sync.Pool

// Allocate is IoAllocateIrp: an IRP with stackSize locations, from a pool (0 allocs
// steady). stackSize < 0 is treated as 0; a zero-location IRP can be allocated but
// every Enter on it is refused (invariant 20). Safe for concurrent use.
func Allocate(stackSize int) *IRP {
	if stackSize < 0 {
		stackSize = 0
	}
	if stackSize <= maxPooledStack {
		if i, ok := pools[stackSize].Get().(*IRP); ok {
			// Free reset the owner fields; IoStatus again, as a stale pointer may have
			// written it, and the shared words (see resetShared), here in line.
			i.IoStatus = IoStatusBlock{Status: Success}
			if i.sharedSet() {
				i.resetShared()
			}
			// Freed → Idle, one more allocation; no one else reaches a pooled IRP.
			c := i.word()
			if w := c.w.Load(); w&allocMask < allocLimit {
				c.w.Store(withState(w, stateIdle) + allocOne)
			} else {
				c.reallocate()
			}
			return i
		}
	}
	return newIRP(stackSize)
}

// Free is IoFreeIrp. Freeing a pending IRP (submitted and not completed) or one with
// a cancel routine set is a contract violation: panic in verifier mode, otherwise
// counted and refused (the IRP stays alive). A second Free is counted and ignored,
// so an IRP never enters the pool twice. Call it as the owner.
func (i *IRP) Free() {
	c := i.word()
	for {
		w := c.w.Load()
		switch stateOf(w) {
		case stateIdle, stateCompleted:
		case stateFreed:
			report(vUseAfterFree, "IRP freed twice")
			return
		default:
			report(vFreePending, "IoFreeIrp on an IRP that is submitted and not completed")
			return
		}
		if i.cancelRoutineSet() {
			report(vCancelStateInCompleted, "IoFreeIrp with a cancel routine set")
			return
		}
		if c.w.CompareAndSwap(w, withState(w, stateFreed)) {
			break
		}
	}
	i.resetOwned(Success)
	if n := len(i.stack); n <= maxPooledStack {
		pools[n].Put(i)
	}
}

// Reuse is IoReuseIrp: resets stack, IoStatus (to status), Cancel, PendingReturned,
// and keeps the allocation. Refused (verifier panic, or counted) on an IRP that is
// submitted and not completed, that is freed, or that has a cancel routine set.
// Call it as the owner.
func (i *IRP) Reuse(status Status) {
	c := i.word()
	w := c.w.Load()
	switch stateOf(w) {
	case stateIdle, stateCompleted:
	case stateFreed:
		report(vUseAfterFree, "IoReuseIrp on a freed IRP")
		return
	default:
		report(vReusePending, "IoReuseIrp on an IRP that is submitted and not completed")
		return
	}
	if i.cancelRoutineSet() {
		report(vReuseWithCancelRoutine, "IoReuseIrp with a cancel routine set")
		return
	}
	if !c.w.CompareAndSwap(w, withState(w, stateIdle)) {
		report(vReusePending, "IoReuseIrp raced with another owner")
		return
	}
	i.reset(status)
}
