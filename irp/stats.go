package irp

import (
	"sync"
	"sync/atomic"
)

// statCancelled counts Cancel calls that found a cancel routine. The cancel path is rare
// and already takes the slot lock, so this one stays a global atomic word.
var statCancelled atomic.Uint64

// registry holds the state cell of every IRP not yet collected (pooled ones included), so
// that ReadStats can sum the counts kept in the state words (statecell.go). retired holds
// the counts moved out of cells: fields flushed before they would overflow, and the whole
// word of a cell whose IRP was collected.
var registry struct {
	mu      sync.Mutex
	cells   []*stateCell
	retired counts
}

// counts are the totals behind Stats. Pending is Submitted - Completed.
type counts struct{ allocated, freed, submitted, completed uint64 }

// add adds the counts one state word stands for (the derivation is in statecell.go).
func (t *counts) add(w uint64) {
	a, s := allocsOf(w), subsOf(w)
	t.allocated += a
	t.freed += a
	if stateOf(w) != stateFreed {
		t.freed-- // the live allocation, which every live IRP has counted (a >= 1)
	}
	t.submitted += s
	t.completed += s
	if stateOf(w) == stateSubmitted {
		t.completed-- // the pending submission, counted when it entered Submitted (s >= 1)
	}
}

// retire folds the cell of a collected IRP into the retired counts and drops it from the
// registry. It runs as the IRP's cleanup; nothing reaches the cell any more but the registry.
func retire(c *stateCell) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	registry.retired.add(c.w.Load())
	last := len(registry.cells) - 1
	moved := registry.cells[last]
	registry.cells[c.idx] = moved
	moved.idx = c.idx
	registry.cells[last] = nil
	registry.cells = registry.cells[:last]
}

// Stats is a snapshot of the global IRP counters. Allocated/Freed count Allocate and
// accepted Free calls (a zero IRP, declared rather than allocated, counts as allocated
// when its owner first uses it); Submitted counts IRPs handed to a callee (first Enter, or a
// completion without Enter); Completed counts first completions of a submission;
// Pending = Submitted - Completed, the IRPs submitted and not yet completed; Cancelled
// counts Cancel calls that found and ran a cancel routine; Violations counts contract
// violations by bug-check name.
//
// What one snapshot tells, under concurrent traffic: each IRP's counts are read in one
// atomic load of its state word, but the IRPs are read one after another, so the snapshot
// is not one instant of the whole process. Still, every snapshot has Submitted ==
// Completed + Pending and Freed <= Allocated exactly (both hold IRP by IRP), every counter
// only grows from one snapshot to the next, and an IRP that has finished a transition
// before ReadStats was called is counted. Allocated - Freed is the number of IRPs live
// (allocated, not freed) at the moments they were read. With no IRP operation in flight
// the snapshot is exact. Cancelled and Violations are separate words read after the rest.
type Stats struct {
	Allocated, Freed, Submitted, Completed, Pending, Cancelled uint64
	Violations                                                 map[string]uint64
}

// ReadStats returns a snapshot (see Stats for what it does and does not tell). Its cost
// grows with the number of IRPs in existence, pooled ones included; it holds a lock that
// only IRP creation, collection and the rare counter flush also take, never the
// allocate/enter/complete/free path. Safe for concurrent use.
func ReadStats() Stats {
	registry.mu.Lock()
	t := registry.retired
	for _, c := range registry.cells {
		t.add(c.w.Load())
	}
	registry.mu.Unlock()
	s := Stats{
		Allocated:  t.allocated,
		Freed:      t.freed,
		Submitted:  t.submitted,
		Completed:  t.completed,
		Pending:    t.submitted - t.completed,
		Cancelled:  statCancelled.Load(),
		Violations: make(map[string]uint64),
	}
	for v := range numViolations {
		if n := violationCounts[v].Load(); n != 0 {
			s.Violations[violationInfo[v].name] += n
		}
	}
	return s
}

// ViolationCount is the number of contract violations counted so far in the process, all
// kinds together: the sum of ReadStats().Violations, without building the map. Safe for
// concurrent use.
func ViolationCount() uint64 {
	var n uint64
	for v := range numViolations {
		n += violationCounts[v].Load()
	}
	return n
}
