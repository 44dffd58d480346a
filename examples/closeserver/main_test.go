package main

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The tour's transcript is part of the README: this example keeps the two in step.
func Example_tour() {
	step1IRPLifecycle()
	step2Cancellation()
	step3RundownAroundClose()
	// Output:
	// == 1. IRP lifecycle: allocate, call, complete, free
	//    call returned: STATUS_PENDING
	//    completion routine: status=STATUS_SUCCESS information=5 pendingReturned=true
	// == 2. Cancellation: the cancel routine completes the IRP with STATUS_CANCELLED
	//    cancel routine runs (once)
	//    completion routine: status=STATUS_CANCELLED (0), winsock=995
	//    Cancel found a routine: true
	//    a second Cancel finds none: false
	// == 3. Rundown around close: calls in flight finish first, later calls are refused
	//    a call enters (Acquire): true
	//    close began; a new call is refused (Acquire): false
	//    the call in flight returns (Release)
	//    close continues: no call in flight any more
}
