//go:build unix && !linux

package wsk

// sendQueueLocked is the value of SIOQuerySendQueue (sendqueue.go): the kernel's count
// of bytes in the send buffer (kernelSendQueue: SO_NWRITE on macOS, FIONWRITE on the
// BSDs) plus the bytes of send IRPs the provider has not written yet. Call it with s.mu
// held.
func (s *socket) sendQueueLocked() (int, error) {
	v, err := kernelSendQueue(s.fd)
	if err != nil {
		return 0, err
	}
	for o := s.sendQ.head(); o != nil; o = s.sendQ.next(o) {
		if left := o.buf.Length - o.n; left > 0 {
			v += left
		}
	}
	return v, nil
}
