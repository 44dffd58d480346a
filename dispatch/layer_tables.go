package dispatch

import (
	"net/netip"

	"github.com/gowsk/gowsk/irp"
)

// Per-category layer builders. Each closure is built once per Layer call and shared by
// every socket using the layered table: l.enter runs the filter, sets its routine on the
// next location and enters the layer's location, then the call goes on to inner.

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
		CloseSocket: func(s *Socket, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberCloseSocket, s, i); !ok {
				return st
			}
			if next.CloseSocket == nil {
				return missing(i)
			}
			return next.CloseSocket(s, i)
		},
	}
}

func (l *layer) listen(next *ListenDispatch) *ListenDispatch {
	return &ListenDispatch{
		BasicDispatch: l.basic(&next.BasicDispatch),
		Bind: func(s *Socket, local netip.AddrPort, flags Flags, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberBind, s, i); !ok {
				return st
			}
			if next.Bind == nil {
				return missing(i)
			}
			return next.Bind(s, local, flags, i)
		},
		Accept: func(s *Socket, flags Flags, acceptContext any, acceptDispatch *ClientConnectionDispatch, local, remote *netip.AddrPort, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberAccept, s, i); !ok {
				return st
			}
			if next.Accept == nil {
				return missing(i)
			}
			return next.Accept(s, flags, acceptContext, acceptDispatch, local, remote, i)
		},
		InspectComplete: func(s *Socket, id *InspectID, action InspectAction, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberInspectComplete, s, i); !ok {
				return st
			}
			if next.InspectComplete == nil {
				return missing(i)
			}
			return next.InspectComplete(s, id, action, i)
		},
		GetLocalAddress: func(s *Socket, addr *netip.AddrPort, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberGetLocalAddress, s, i); !ok {
				return st
			}
			if next.GetLocalAddress == nil {
				return missing(i)
			}
			return next.GetLocalAddress(s, addr, i)
		},
	}
}

func (l *layer) datagram(next *DatagramDispatch) *DatagramDispatch {
	return &DatagramDispatch{
		BasicDispatch: l.basic(&next.BasicDispatch),
		Bind: func(s *Socket, local netip.AddrPort, flags Flags, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberBind, s, i); !ok {
				return st
			}
			if next.Bind == nil {
				return missing(i)
			}
			return next.Bind(s, local, flags, i)
		},
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
		GetLocalAddress: func(s *Socket, addr *netip.AddrPort, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberGetLocalAddress, s, i); !ok {
				return st
			}
			if next.GetLocalAddress == nil {
				return missing(i)
			}
			return next.GetLocalAddress(s, addr, i)
		},
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
		BasicDispatch: l.basic(&next.BasicDispatch),
		Bind: func(s *Socket, local netip.AddrPort, flags Flags, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberBind, s, i); !ok {
				return st
			}
			if next.Bind == nil {
				return missing(i)
			}
			return next.Bind(s, local, flags, i)
		},
		Connect: func(s *Socket, remote netip.AddrPort, flags Flags, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberConnect, s, i); !ok {
				return st
			}
			if next.Connect == nil {
				return missing(i)
			}
			return next.Connect(s, remote, flags, i)
		},
		GetLocalAddress: func(s *Socket, addr *netip.AddrPort, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberGetLocalAddress, s, i); !ok {
				return st
			}
			if next.GetLocalAddress == nil {
				return missing(i)
			}
			return next.GetLocalAddress(s, addr, i)
		},
		GetRemoteAddress: func(s *Socket, addr *netip.AddrPort, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberGetRemoteAddress, s, i); !ok {
				return st
			}
			if next.GetRemoteAddress == nil {
				return missing(i)
			}
			return next.GetRemoteAddress(s, addr, i)
		},
		Send: func(s *Socket, buf *Buf, flags Flags, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberSend, s, i); !ok {
				return st
			}
			if next.Send == nil {
				return missing(i)
			}
			return next.Send(s, buf, flags, i)
		},
		Receive: func(s *Socket, buf *Buf, flags Flags, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberReceive, s, i); !ok {
				return st
			}
			if next.Receive == nil {
				return missing(i)
			}
			return next.Receive(s, buf, flags, i)
		},
		Disconnect: func(s *Socket, buf *Buf, flags Flags, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberDisconnect, s, i); !ok {
				return st
			}
			if next.Disconnect == nil {
				return missing(i)
			}
			return next.Disconnect(s, buf, flags, i)
		},
		Release: func(s *Socket, list *DataIndication) irp.Status {
			l.f.Call(MemberRelease, s, nil)
			if next.Release == nil {
				return irp.NotSupported
			}
			return next.Release(s, list)
		},
		ConnectEx: func(s *Socket, remote netip.AddrPort, buf *Buf, flags Flags, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberConnectEx, s, i); !ok {
				return st
			}
			if next.ConnectEx == nil {
				return missing(i)
			}
			return next.ConnectEx(s, remote, buf, flags, i)
		},
		SendEx:    reserved,
		ReceiveEx: reserved,
	}
}

func (l *layer) stream(next *StreamDispatch) *StreamDispatch {
	return &StreamDispatch{
		BasicDispatch: l.basic(&next.BasicDispatch),
		Bind: func(s *Socket, local netip.AddrPort, flags Flags, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberBind, s, i); !ok {
				return st
			}
			if next.Bind == nil {
				return missing(i)
			}
			return next.Bind(s, local, flags, i)
		},
		Accept: func(s *Socket, flags Flags, acceptContext any, acceptDispatch *ClientConnectionDispatch, local, remote *netip.AddrPort, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberAccept, s, i); !ok {
				return st
			}
			if next.Accept == nil {
				return missing(i)
			}
			return next.Accept(s, flags, acceptContext, acceptDispatch, local, remote, i)
		},
		Connect: func(s *Socket, remote netip.AddrPort, flags Flags, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberConnect, s, i); !ok {
				return st
			}
			if next.Connect == nil {
				return missing(i)
			}
			return next.Connect(s, remote, flags, i)
		},
		Listen: func(s *Socket, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberListen, s, i); !ok {
				return st
			}
			if next.Listen == nil {
				return missing(i)
			}
			return next.Listen(s, i)
		},
		Send: func(s *Socket, buf *Buf, flags Flags, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberSend, s, i); !ok {
				return st
			}
			if next.Send == nil {
				return missing(i)
			}
			return next.Send(s, buf, flags, i)
		},
		Receive: func(s *Socket, buf *Buf, flags Flags, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberReceive, s, i); !ok {
				return st
			}
			if next.Receive == nil {
				return missing(i)
			}
			return next.Receive(s, buf, flags, i)
		},
		Disconnect: func(s *Socket, buf *Buf, flags Flags, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberDisconnect, s, i); !ok {
				return st
			}
			if next.Disconnect == nil {
				return missing(i)
			}
			return next.Disconnect(s, buf, flags, i)
		},
		Release: func(s *Socket, list *DataIndication) irp.Status {
			l.f.Call(MemberRelease, s, nil)
			if next.Release == nil {
				return irp.NotSupported
			}
			return next.Release(s, list)
		},
		GetLocalAddress: func(s *Socket, addr *netip.AddrPort, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberGetLocalAddress, s, i); !ok {
				return st
			}
			if next.GetLocalAddress == nil {
				return missing(i)
			}
			return next.GetLocalAddress(s, addr, i)
		},
		GetRemoteAddress: func(s *Socket, addr *netip.AddrPort, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberGetRemoteAddress, s, i); !ok {
				return st
			}
			if next.GetRemoteAddress == nil {
				return missing(i)
			}
			return next.GetRemoteAddress(s, addr, i)
		},
		ConnectEx: func(s *Socket, remote netip.AddrPort, buf *Buf, flags Flags, i *irp.IRP) irp.Status {
			if st, ok := l.enter(MemberConnectEx, s, i); !ok {
				return st
			}
			if next.ConnectEx == nil {
				return missing(i)
			}
			return next.ConnectEx(s, remote, buf, flags, i)
		},
		SendEx:    reserved,
		ReceiveEx: reserved,
	}
}
