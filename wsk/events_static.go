package wsk

import (
	"sync/atomic"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// staticEvents is a registration's WSK_SET_STATIC_EVENT_CALLBACKS state (SPEC.md §2.3, §2.7): the
// events every socket gets enabled at creation, according to its category. It is one
// atomic word, so setting it and creating a socket need no lock between them:
//
//	bits    meaning
//	0-31    the event mask that was set (WSK_EVENT_* flags)
//	32      staticSet: WskControlClient set the mask (allowed once)
//	33      staticSealed: a socket was created; the mask can no longer be set
//
// Both flags only ever get set. set and seal are CAS loops on the whole word, so a socket
// creation racing the control call either sees the mask (the set came first) or makes the
// set fail (the creation came first): never a socket created "during" the set.
type staticEvents struct{ w atomic.Uint64 }

const (
	staticSet    uint64 = 1 << 32
	staticSealed uint64 = 1 << 33

	// staticAll is every event a static mask may name.
	staticAll = dispatch.EventReceive | dispatch.EventDisconnect | dispatch.EventSendBacklog |
		dispatch.EventAccept | dispatch.EventReceiveFrom
)

// set records mask once, before any socket exists; STATUS_INVALID_DEVICE_STATE otherwise.
func (e *staticEvents) set(mask dispatch.EventMask) irp.Status {
	for {
		old := e.w.Load()
		if old&(staticSet|staticSealed) != 0 {
			return irp.InvalidDeviceState
		}
		if e.w.CompareAndSwap(old, staticSet|uint64(mask)) {
			return irp.Success
		}
	}
}

// seal is called for every socket the registration creates, before the socket is
// published: from then on the mask is fixed. It returns the mask (0 when none was set).
func (e *staticEvents) seal() dispatch.EventMask {
	for {
		old := e.w.Load()
		if old&staticSealed != 0 || e.w.CompareAndSwap(old, old|staticSealed) {
			return dispatch.EventMask(uint32(old))
		}
	}
}

// staticFor is the part of a static mask that applies to a category: listen sockets get
// the accept event, connection sockets (those WskAccept and WskAcceptEvent deliver
// included) the connection events, datagram sockets the receive-from event, stream
// sockets the accept event and the connection events (each used in its role).
func staticFor(cat dispatch.SocketFlags, mask dispatch.EventMask) dispatch.EventMask {
	conn := dispatch.EventReceive | dispatch.EventDisconnect | dispatch.EventSendBacklog
	switch cat {
	case dispatch.ListenSocket:
		return mask & dispatch.EventAccept
	case dispatch.ConnectionSocket:
		return mask & conn
	case dispatch.DatagramSocket:
		return mask & dispatch.EventReceiveFrom
	case dispatch.StreamSocket:
		return mask & (conn | dispatch.EventAccept)
	}
	return 0
}

// setStaticEvents is WSK_SET_STATIC_EVENT_CALLBACKS (WskControlClient): in is a
// WSK_EVENT_CALLBACK_CONTROL naming NPI_WSK_INTERFACE_ID and a non-empty mask of
// WSK_EVENT_* flags (no WSK_EVENT_DISABLE); no IRP, no output. Allowed once and only
// before the registration created any socket (a creation that failed afterwards still
// counts): STATUS_INVALID_DEVICE_STATE otherwise. A bad input or an IRP is
// STATUS_INVALID_PARAMETER (the IRP completed). The caller holds a provider call
// reference.
func (r *Registration) setStaticEvents(in []byte, i *irp.IRP) irp.Status {
	if i != nil {
		return rejectClientCall(i, irp.InvalidParameter)
	}
	c, ok := dispatch.ParseEventCallbackControl(in)
	if !ok || c.NpiID != dispatch.NPIWskInterfaceID || c.EventMask == 0 || c.EventMask&^staticAll != 0 {
		return irp.InvalidParameter
	}
	return r.static.set(c.EventMask)
}
