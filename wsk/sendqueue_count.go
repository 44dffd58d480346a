//go:build unix || windows

package wsk

import "github.com/gowsk/gowsk/wsk/internal/sock"

// sendQueueLocked is the value of SIOQuerySendQueue (sendqueue.go): the kernel's count of
// bytes not yet acknowledged (sock.SendQueue: SIOCOUTQ on Linux, the FIN after a graceful
// disconnect included) plus the bytes of send IRPs the provider has not written yet. An
// OS without the count answers an error that sock.Status maps to STATUS_NOT_SUPPORTED.
// Call it with s.mu held.
func (s *socket) sendQueueLocked() (int, error) {
	v, err := sock.SendQueue(s.fd)
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
