//go:build unix || windows

package wsk

import (
	"encoding/binary"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// cancelKeepsSentOption gets or sets SOCancelKeepsSent (options_keepalive.go) on a
// connection socket; other categories answer STATUS_NOT_SUPPORTED.
func (s *socket) cancelKeepsSentOption(set bool, in, out []byte, outReturned *int, i *irp.IRP) irp.Status {
	if s.category() != dispatch.ConnectionSocket {
		return ctlDone(i, irp.NotSupported, 0, nil)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if set {
		if len(in) < 4 {
			return ctlDone(i, irp.InvalidParameter, 0, nil)
		}
		s.coldLocked().cancelKeepsSent = binary.LittleEndian.Uint32(in) != 0
		return ctlDone(i, irp.Success, 0, outReturned)
	}
	if len(out) < 4 {
		return ctlDone(i, irp.BufferOverflow, 4, outReturned)
	}
	var v uint32
	if s.cancelKeepsSentLocked() {
		v = 1
	}
	binary.LittleEndian.PutUint32(out, v)
	return ctlDone(i, irp.Success, 4, outReturned)
}
