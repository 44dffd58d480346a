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
