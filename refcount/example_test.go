package refcount_test

import (
	"context"
	"fmt"

	"github.com/gowsk/gowsk/refcount"
)

// A call holds a reference while close starts; close completes only after the call
// releases it, and calls arriving after close began are refused.
func ExampleRundown() {
	var guard refcount.Rundown

	fmt.Println("call acquires:", guard.Acquire())

	closed := make(chan struct{})
	go func() {
		_ = guard.Wait(context.Background()) // close: begin rundown, wait for calls
		close(closed)
	}()
	for !guard.Active() {
	}
	fmt.Println("late call:", guard.TryAcquire())

	fmt.Println("call releases")
	guard.Release()
	<-closed
	fmt.Println("close completed:", guard.Done())
	// Output:
	// call acquires: true
	// late call: refcount: rundown in progress
	// call releases
	// close completed: true
}

// WaitFunc lets a call that holds a reference close its own object without blocking.
func ExampleRundown_WaitFunc() {
	var guard refcount.Rundown
	guard.Acquire()
	guard.WaitFunc(func() { fmt.Println("teardown runs on the last release") })
	fmt.Println("close returned")
	guard.Release()
	// Output:
	// close returned
	// teardown runs on the last release
}

func ExampleRef() {
	r := refcount.NewRef(func() { fmt.Println("finalised") })
	r.Add()
	fmt.Println(r.Release())
	fmt.Println(r.Release())
	// Output:
	// false
	// finalised
	// true
}
