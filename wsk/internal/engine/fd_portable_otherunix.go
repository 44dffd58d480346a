//go:build unix && !linux

package engine

// rearm does nothing: the runtime poller takes its edges from the kernel. (On Linux the
// FD facade's rearm methods are no-ops of their own, for both engines.)
func (f *portFD) rearm(int) {}
