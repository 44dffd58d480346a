package main

import (
	"fmt"
	"io"
	"os"
	"runtime/trace"

	"github.com/gowsk/gowsk/wsk"
	"github.com/gowsk/gowsk/wsk/wsktrace"
)

// providerOptions are the options openProvider registers with: none, or with -trace the
// IRP recorder (package wsktrace).
var providerOptions []wsk.Option

// startTrace is -trace FILE: it creates FILE, starts runtime/trace writing to it and turns
// on gowsk's IRP tracing for the provider opened next. The returned stop ends the trace
// and closes the file. Without a FILE ("") it does nothing.
func startTrace(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("-trace: %w", err)
	}
	stopTrace, err := startTraceTo(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("-trace: %w", err)
	}
	return func() error {
		stopTrace()
		return f.Close()
	}, nil
}

// startTraceTo starts runtime/trace writing to w with gowsk's IRP tracing on; stop ends
// both.
func startTraceTo(w io.Writer) (stop func(), err error) {
	if err := trace.Start(w); err != nil {
		return nil, err
	}
	providerOptions = []wsk.Option{wsk.WithObserver(wsktrace.New(nil))}
	return func() {
		trace.Stop()
		providerOptions = nil
	}, nil
}
