//go:build linux

package engine_test

import (
	"fmt"
	"time"

	"github.com/gowsk/gowsk/wsk/internal/engine"
)

// Post and AfterFunc run their functions on the loop goroutine, in order.
func ExampleLoop_Post() {
	e, err := engine.New(engine.Config{Loops: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	l := e.Loops()[0]
	done := make(chan struct{})
	l.Post(func() { fmt.Println("first") })
	l.Post(func() { fmt.Println("second") })
	l.AfterFunc(time.Millisecond, func() {
		fmt.Println("timer")
		close(done)
	})
	<-done
	// Output:
	// first
	// second
	// timer
}
