//go:build linux

package engine

// LoopOf returns the loop fd is registered with: on the epoll engine the loop the number
// maps to (fd mod Loops, registered or not), on the portable engine the loop of its
// registration (loops are chosen round-robin there), nil if fd is not registered.
func (e *Engine) LoopOf(fd int) *Loop {
	if e.port != nil {
		return e.port.loopOf(fd)
	}
	if fd < 0 {
		return nil
	}
	return e.loops[fd%len(e.loops)]
}

// isOnLoop reports whether the caller is l's goroutine, on either engine (tests).
func (l *Loop) isOnLoop() bool {
	if l.port != nil {
		return l.port.onLoop()
	}
	return l.onLoop()
}

// queued returns the number of functions in l's post queue and its bound (tests).
func (l *Loop) queued() (n, bound int) {
	if l.port != nil {
		return l.port.queued()
	}
	return l.posts.queued()
}
