package dispatch

import (
	"net/netip"

	"github.com/gowsk/gowsk/irp"
)

// Per-category layer builders. Each closure is built once per Layer call and shared by
// every socket using the layered table: l.enter runs the filter, sets its routine on the
// next location and enters the layer's location, then the call goes on to the member of
// the table below. That member is read at call time (through a pointer to the field), so
// a nil member completes the IRP with STATUS_NOT_SUPPORTED.
//
// The wrappers below are one per member signature, shared by every table that has it.

// layerIRPOnly wraps a member that takes only the socket and the IRP (CloseSocket, Listen).
func layerIRPOnly[F ~func(*Socket, *irp.IRP) irp.Status](l *layer, m Member, next *F) F {
	return F(func(s *Socket, i *irp.IRP) irp.Status {
		if st, ok := l.enter(m, s, i); !ok {
			return st
		}
		if *next == nil {
			return missing(i)
		}
		return (*next)(s, i)
	})
}

// layerBuf wraps WskSend, WskReceive and WskDisconnect.
func layerBuf[F ~func(*Socket, *Buf, Flags, *irp.IRP) irp.Status](l *layer, m Member, next *F) F {
	return F(func(s *Socket, buf *Buf, flags Flags, i *irp.IRP) irp.Status {
		if st, ok := l.enter(m, s, i); !ok {
			return st
		}
		if *next == nil {
			return missing(i)
		}
		return (*next)(s, buf, flags, i)
	})
}

// addr wraps WskGetLocalAddress and WskGetRemoteAddress.
func (l *layer) addr(m Member, next *GetAddressFunc) GetAddressFunc {
	return func(s *Socket, addr *netip.AddrPort, i *irp.IRP) irp.Status {
		if st, ok := l.enter(m, s, i); !ok {
			return st
		}
		if *next == nil {
			return missing(i)
		}
		return (*next)(s, addr, i)
	}
}

func (l *layer) bind(next *BindFunc) BindFunc {
	return func(s *Socket, local netip.AddrPort, flags Flags, i *irp.IRP) irp.Status {
		if st, ok := l.enter(MemberBind, s, i); !ok {
			return st
		}
		if *next == nil {
			return missing(i)
		}
		return (*next)(s, local, flags, i)
	}
}

func (l *layer) accept(next *AcceptFunc) AcceptFunc {
	return func(s *Socket, flags Flags, acceptContext any, acceptDispatch *ClientConnectionDispatch, local, remote *netip.AddrPort, i *irp.IRP) irp.Status {
		if st, ok := l.enter(MemberAccept, s, i); !ok {
			return st
		}
		if *next == nil {
			return missing(i)
		}
		return (*next)(s, flags, acceptContext, acceptDispatch, local, remote, i)
	}
}

func (l *layer) connect(next *ConnectFunc) ConnectFunc {
	return func(s *Socket, remote netip.AddrPort, flags Flags, i *irp.IRP) irp.Status {
		if st, ok := l.enter(MemberConnect, s, i); !ok {
			return st
		}
		if *next == nil {
			return missing(i)
		}
		return (*next)(s, remote, flags, i)
	}
}

func (l *layer) connectEx(next *ConnectExFunc) ConnectExFunc {
	return func(s *Socket, remote netip.AddrPort, buf *Buf, flags Flags, i *irp.IRP) irp.Status {
		if st, ok := l.enter(MemberConnectEx, s, i); !ok {
			return st
		}
		if *next == nil {
			return missing(i)
		}
		return (*next)(s, remote, buf, flags, i)
	}
}

// release wraps WskRelease of a connection or stream socket: no IRP, so the filter is
// only told of the call.
func (l *layer) release(next *ReleaseFunc) ReleaseFunc {
	return func(s *Socket, list *DataIndication) irp.Status {
		l.f.Call(MemberRelease, s, nil)
		if *next == nil {
			return irp.NotSupported
		}
		return (*next)(s, list)
	}
}

func (l *layer) basic(next *BasicDispatch) BasicDispatch {
	return BasicDispatch{
		ControlSocket: func(s *Socket, reqType ControlType, code uint32, level uint32, in []byte, out []byte, outReturned *int, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberControlSocket, s, i); !ok {
				return st
			}
			if next.ControlSocket == nil {
				return missing(i)
			}
			return next.ControlSocket(s, reqType, code, level, in, out, outReturned, i)
		},
		CloseSocket: layerIRPOnly(l, MemberCloseSocket, &next.CloseSocket),
	}
}

func (l *layer) listen(next *ListenDispatch) *ListenDispatch {
	return &ListenDispatch{
		BasicDispatch: l.basic(&next.BasicDispatch),
		Bind:          l.bind(&next.Bind),
		Accept:        l.accept(&next.Accept),
		InspectComplete: func(s *Socket, id *InspectID, action InspectAction, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberInspectComplete, s, i); !ok {
				return st
			}
			if next.InspectComplete == nil {
				return missing(i)
			}
			return next.InspectComplete(s, id, action, i)
		},
		GetLocalAddress: l.addr(MemberGetLocalAddress, &next.GetLocalAddress),
	}
}

func (l *layer) datagram(next *DatagramDispatch) *DatagramDispatch {
	return &DatagramDispatch{
		BasicDispatch: l.basic(&next.BasicDispatch),
		Bind:          l.bind(&next.Bind),
		SendTo: func(s *Socket, buf *Buf, flags Flags, remote *netip.AddrPort, control []byte, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberSendTo, s, i); !ok {
				return st
			}
			if next.SendTo == nil {
				return missing(i)
			}
			return next.SendTo(s, buf, flags, remote, control, i)
		},
		ReceiveFrom: func(s *Socket, buf *Buf, flags Flags, remote *netip.AddrPort, control []byte, controlLen *int, controlFlags *uint32, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberReceiveFrom, s, i); !ok {
				return st
			}
			if next.ReceiveFrom == nil {
				return missing(i)
			}
			return next.ReceiveFrom(s, buf, flags, remote, control, controlLen, controlFlags, i)
		},
		Release: func(s *Socket, list *DatagramIndication) irp.Status {
			l.f.Call(MemberRelease, s, nil)
			if next.Release == nil {
				return irp.NotSupported
			}
			return next.Release(s, list)
		},
		GetLocalAddress: l.addr(MemberGetLocalAddress, &next.GetLocalAddress),
		SendMessages: func(s *Socket, bufs *BufList, flags Flags, remote *netip.AddrPort, control []byte, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberSendMessages, s, i); !ok {
				return st
			}
			if next.SendMessages == nil {
				return missing(i)
			}
			return next.SendMessages(s, bufs, flags, remote, control, i)
		},
	}
}

func (l *layer) connection(next *ConnectionDispatch) *ConnectionDispatch {
	return &ConnectionDispatch{
		BasicDispatch:    l.basic(&next.BasicDispatch),
		Bind:             l.bind(&next.Bind),
		Connect:          l.connect(&next.Connect),
		GetLocalAddress:  l.addr(MemberGetLocalAddress, &next.GetLocalAddress),
		GetRemoteAddress: l.addr(MemberGetRemoteAddress, &next.GetRemoteAddress),
		Send:             layerBuf(l, MemberSend, &next.Send),
		Receive:          layerBuf(l, MemberReceive, &next.Receive),
		Disconnect:       layerBuf(l, MemberDisconnect, &next.Disconnect),
		Release:          l.release(&next.Release),
		ConnectEx:        l.connectEx(&next.ConnectEx),
		SendEx:           reserved,
		ReceiveEx:        reserved,
	}
}

func (l *layer) stream(next *StreamDispatch) *StreamDispatch {
	return &StreamDispatch{
		BasicDispatch:    l.basic(&next.BasicDispatch),
		Bind:             l.bind(&next.Bind),
		Accept:           l.accept(&next.Accept),
		Connect:          l.connect(&next.Connect),
		Listen:           layerIRPOnly(l, MemberListen, &next.Listen),
		Send:             layerBuf(l, MemberSend, &next.Send),
		Receive:          layerBuf(l, MemberReceive, &next.Receive),
		Disconnect:       layerBuf(l, MemberDisconnect, &next.Disconnect),
		Release:          l.release(&next.Release),
		GetLocalAddress:  l.addr(MemberGetLocalAddress, &next.GetLocalAddress),
		GetRemoteAddress: l.addr(MemberGetRemoteAddress, &next.GetRemoteAddress),
		ConnectEx:        l.connectEx(&next.ConnectEx),
		SendEx:           reserved,
		ReceiveEx:        reserved,
	}
}
