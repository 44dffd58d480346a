//go:build linux

package wsk

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/gowsk/gowsk/irp"
)

// sendQueueIoctl serves SIOQuerySendQueue (sendqueue.go): the provider's unwritten
// send bytes plus the kernel's SIOCOUTQ.
func (s *socket) sendQueueIoctl(out []byte, outReturned *int, i *irp.IRP) irp.Status {
	if i == nil {
		return irp.InvalidParameter
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.checkLocked(stConnected); st != irp.Success {
		return ctlDone(i, st, 0, nil)
	}
	if len(out) < 8 {
		return ctlDone(i, irp.BufferOverflow, 8, outReturned)
	}
	v, err := unix.IoctlGetInt(s.fd, unix.SIOCOUTQ)
	if err != nil {
		return ctlDone(i, irp.FromError(err), 0, nil)
	}
	for _, o := range s.sendQ {
		if left := o.bytes - o.n; left > 0 {
			v += left
		}
	}
	binary.LittleEndian.PutUint64(out, uint64(v))
	return ctlDone(i, irp.Success, 8, outReturned)
}
