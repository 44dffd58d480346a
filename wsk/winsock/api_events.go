package winsock

import "github.com/gowsk/gowsk/irp"

// WSAEventSelect is WSAEventSelect: the FD_* events of mask are recorded for s and set
// ev; mask 0 cancels. s becomes nonblocking (and FIONBIO cannot make it blocking while
// a selection is active). A duplicated SOCKET shares the selection: a new one replaces
// it for all. Unknown bits are WSAEINVAL, a nil ev with a mask WSA_INVALID_HANDLE.
func (t *Thread) WSAEventSelect(s Socket, ev *Event, mask int32) error {
	const op = "WSAEventSelect"
	e, code := t.call(s)
	if code != 0 {
		return wsaErr(op, code)
	}
	defer t.done(e)
	if t.w.top.EventSelect == nil {
		return wsaErr(op, irp.WSAEOPNOTSUPP)
	}
	if code := e.answer(t.w.top.EventSelect(e.s.ph, ev, mask)); code != 0 {
		return wsaErr(op, code)
	}
	if mask != 0 {
		e.s.mu.Lock()
		e.s.nonblocking = true
		e.s.mu.Unlock()
	}
	return nil
}

// WSAEnumNetworkEvents is WSAEnumNetworkEvents: the events recorded since the last
// call (cleared by this one), with their codes; ev, if given, is reset.
func (t *Thread) WSAEnumNetworkEvents(s Socket, ev *Event) (NetworkEvents, error) {
	const op = "WSAEnumNetworkEvents"
	var ne NetworkEvents
	e, code := t.call(s)
	if code != 0 {
		return ne, wsaErr(op, code)
	}
	defer t.done(e)
	if t.w.top.EnumNetworkEvents == nil {
		return ne, wsaErr(op, irp.WSAEOPNOTSUPP)
	}
	return ne, wsaErr(op, e.answer(t.w.top.EnumNetworkEvents(e.s.ph, ev, &ne)))
}
