package dispatch

import "github.com/gowsk/gowsk/irp"

// guardRelease guards WskRelease of a connection or stream socket: it hands a retained
// DataIndication list back. There is no IRP; a refused call (the socket is closing)
// returns irp.InvalidHandle and the list stays with the caller's socket, which the
// provider reclaims when the close runs.
func guardRelease(s *Socket, list *DataIndication) irp.Status {
	st, ok, held := s.beginNoIRP()
	if !ok {
		return st
	}
	defer s.end(held)
	var f ReleaseFunc
	switch t := s.inner.(type) {
	case *ConnectionDispatch:
		f = t.Release
	case *StreamDispatch:
		f = t.Release
	}
	if f == nil {
		return irp.NotSupported
	}
	return f(s, list)
}

// guardReleaseDatagram guards WskRelease of a datagram socket.
func guardReleaseDatagram(s *Socket, list *DatagramIndication) irp.Status {
	st, ok, held := s.beginNoIRP()
	if !ok {
		return st
	}
	defer s.end(held)
	t, _ := s.inner.(*DatagramDispatch)
	if t == nil || t.Release == nil {
		return irp.NotSupported
	}
	return t.Release(s, list)
}
