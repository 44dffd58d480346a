package irp

import "sync/atomic"

// Global counters. Each is a single atomic word so that the hot path pays one
// uncontended-ish atomic add and ReadStats never blocks anyone.
var (
	statAllocated atomic.Uint64
	statFreed     atomic.Uint64
	statSubmitted atomic.Uint64
	statCompleted atomic.Uint64
	statCancelled atomic.Uint64
)

// Stats is a snapshot of global IRP counters. Allocated/Freed count Allocate and
// accepted Free calls; Submitted counts IRPs handed to a callee (first Enter, or a
// completion without Enter); Completed counts first completions of a submission;
// Pending = Submitted - Completed; Cancelled counts Cancel calls that found and ran
// a cancel routine; Violations counts contract violations by bug-check name.
type Stats struct {
	Allocated, Freed, Submitted, Completed, Pending, Cancelled uint64
	Violations                                                 map[string]uint64
}

// ReadStats returns a snapshot. The counters are read one by one, so under
// concurrent traffic the snapshot is not a single instant (Pending is clamped at 0).
func ReadStats() Stats {
	s := Stats{
		Allocated:  statAllocated.Load(),
		Freed:      statFreed.Load(),
		Completed:  statCompleted.Load(),
		Submitted:  statSubmitted.Load(),
		Cancelled:  statCancelled.Load(),
		Violations: make(map[string]uint64),
	}
	if s.Submitted > s.Completed {
		s.Pending = s.Submitted - s.Completed
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
