package dispatch

import "github.com/gowsk/gowsk/irp"

// basicGuard is the guard table of basic sockets, and the basic part of every other
// category's guard.
var basicGuard = BasicDispatch{
	ControlSocket: guardControlSocket,
	CloseSocket:   guardCloseSocket,
}

// guardControlSocket guards WskControlSocket. The IRP is optional (required, optional or
// forbidden by request, SPEC.md §2.3): without one the call is synchronous and a refused call
// returns irp.InvalidHandle.
func guardControlSocket(s *Socket, reqType ControlType, code uint32, level uint32,
	in []byte, out []byte, outReturned *int, i *irp.IRP) irp.Status {
	if i == nil {
		st, ok, held := s.beginNoIRP()
		if !ok {
			return st
		}
		defer s.end(held)
		if s.basic.ControlSocket == nil {
			return irp.NotSupported
		}
		return s.basic.ControlSocket(s, reqType, code, level, in, out, outReturned, nil)
	}
	st, ok, held := s.begin(i)
	if !ok {
		return st
	}
	defer s.end(held)
	if s.basic.ControlSocket == nil {
		return missing(i)
	}
	return s.basic.ControlSocket(s, reqType, code, level, in, out, outReturned, i)
}

// guardCloseSocket guards WskCloseSocket (SPEC.md §3.1).
//
// The first close wins a CAS on the closing flag; any later close is refused with
// irp.InvalidHandle. The winner enters and marks its IRP pending, then begins the rundown.
// The provider's CloseSocket runs once every call in flight has returned: at once on this
// goroutine when none is, otherwise on the goroutine of the last call to return. That is
// what lets a completion routine or callback close the socket whose call is still on its
// stack without deadlock: the close simply runs when that call unwinds.
//
// The return value is always irp.Pending, even when the drain ran synchronously and the
// provider completed the IRP without pending: the guard marked the IRP pending before
// handing it on, and the rule "Pending is returned iff PendingReturned is set" (SPEC.md §4.5)
// must hold for the caller.
func guardCloseSocket(s *Socket, i *irp.IRP) irp.Status {
	// Enter before the closing CAS, so that an IRP that cannot be entered (no location
	// left, or still pending elsewhere) never consumes the one close a socket gets.
	if st, ok := EnterProvider(i); !ok {
		return st
	}
	if s == nil {
		return refuseEntered(i, irp.InvalidParameter)
	}
	if s.basic == nil || !s.closing.CompareAndSwap(0, 1) {
		return refuseEntered(i, irp.InvalidHandle)
	}
	i.MarkPending()
	inner := s.basic.CloseSocket
	s.rundown.WaitFunc(func() {
		if inner == nil {
			i.Complete(irp.Success, 0)
			return
		}
		inner(s, i)
	})
	return irp.Pending
}
