//go:build linux

package wsk

import "golang.org/x/sys/unix"

// sendQueueLocked is the value of SIOQuerySendQueue (sendqueue.go): the kernel's
// SIOCOUTQ (unsent and unacknowledged bytes, the FIN after a graceful disconnect) plus
// the bytes of send IRPs the provider has not written yet. Call it with s.mu held.
func (s *socket) sendQueueLocked() (int, error) {
	v, err := unix.IoctlGetInt(s.fd, unix.SIOCOUTQ)
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
