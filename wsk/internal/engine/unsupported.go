//go:build !unix && !windows

package engine

import "time"

// Engine is not implemented on this OS; New always fails.
type Engine struct{}

// Loop is not implemented on this OS.
type Loop struct{}

// FD is not implemented on this OS.
type FD struct{}

// Timer is not implemented on this OS.
type Timer struct{}

// New returns ErrUnsupported: no engine exists for this OS (see the package doc).
func New(cfg Config) (*Engine, error) { return nil, ErrUnsupported }

// Close does nothing.
func (e *Engine) Close() error { return nil }

// Register returns ErrUnsupported.
func (e *Engine) Register(fd int, h Handler) (*FD, error) { return nil, ErrUnsupported }

// Loops returns nil.
func (e *Engine) Loops() []*Loop { return nil }

// Stats returns zeros.
func (e *Engine) Stats() Stats { return Stats{} }

// Post returns false.
func (l *Loop) Post(fn func()) bool { return false }

// AfterFunc returns a Timer that never fires.
func (l *Loop) AfterFunc(d time.Duration, fn func()) *Timer { return &Timer{} }

// Stop returns false.
func (t *Timer) Stop() bool { return false }

// Sysfd returns -1.
func (f *FD) Sysfd() int { return -1 }

// Loop returns nil.
func (f *FD) Loop() *Loop { return nil }

// Unregister returns ErrUnsupported.
func (f *FD) Unregister() error { return ErrUnsupported }

// UnregisterFunc runs fn at once.
func (f *FD) UnregisterFunc(fn func()) error {
	if fn != nil {
		fn()
	}
	return ErrUnsupported
}

// RearmRead does nothing.
func (f *FD) RearmRead() {}

// RearmWrite does nothing.
func (f *FD) RearmWrite() {}
