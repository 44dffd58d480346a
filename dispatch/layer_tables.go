package dispatch

import (
	"net/netip"

	"github.com/gowsk/gowsk/irp"
)

// One wrapper per member signature, every one of the same form: a generic function over the
// member's function type F that takes the layer, the Member it reports to the filter and a
// pointer to the member of the table below, and returns the layered member. l.enter runs the
// filter, sets its routine on the next location and enters the layer's location; then the
// call goes on to the member below, read at call time through the pointer, so a nil member
// completes the IRP with STATUS_NOT_SUPPORTED. The closures are built once per Layer call
// and shared by every socket using the layered table.

// layerControl wraps WskControlSocket.
func layerControl[F ~func(*Socket, ControlType, uint32, uint32, []byte, []byte, *int, *irp.IRP) irp.Status](
	l *layer, m Member, next *F) F {
	return func(s *Socket, reqType ControlType, code, level uint32, in, out []byte, outReturned *int,
		i *irp.IRP) irp.Status {
		if st, ok := l.enter(m, s, i); !ok {
			return st
		}
		if *next == nil {
			return missing(i)
		}
		return (*next)(s, reqType, code, level, in, out, outReturned, i)
	}
}

// layerIRPOnly wraps a member that takes only the socket and the IRP (CloseSocket, Listen).
func layerIRPOnly[F ~func(*Socket, *irp.IRP) irp.Status](l *layer, m Member, next *F) F {
	return func(s *Socket, i *irp.IRP) irp.Status {
		if st, ok := l.enter(m, s, i); !ok {
			return st
		}
		if *next == nil {
			return missing(i)
		}
		return (*next)(s, i)
	}
}

// layerBuf wraps WskSend, WskReceive and WskDisconnect.
func layerBuf[F ~func(*Socket, *Buf, Flags, *irp.IRP) irp.Status](l *layer, m Member, next *F) F {
	return func(s *Socket, buf *Buf, flags Flags, i *irp.IRP) irp.Status {
		if st, ok := l.enter(m, s, i); !ok {
			return st
		}
		if *next == nil {
			return missing(i)
		}
		return (*next)(s, buf, flags, i)
	}
}

// layerAddr wraps WskGetLocalAddress and WskGetRemoteAddress.
func layerAddr[F ~func(*Socket, *netip.AddrPort, *irp.IRP) irp.Status](l *layer, m Member, next *F) F {
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

// layerAddrFlags wraps WskBind and WskConnect.
func layerAddrFlags[F ~func(*Socket, netip.AddrPort, Flags, *irp.IRP) irp.Status](l *layer, m Member, next *F) F {
	return func(s *Socket, a netip.AddrPort, flags Flags, i *irp.IRP) irp.Status {
		if st, ok := l.enter(m, s, i); !ok {
			return st
		}
		if *next == nil {
			return missing(i)
		}
		return (*next)(s, a, flags, i)
	}
}

// layerConnectEx wraps WskConnectEx.
func layerConnectEx[F ~func(*Socket, netip.AddrPort, *Buf, Flags, *irp.IRP) irp.Status](l *layer, m Member, next *F) F {
	return func(s *Socket, remote netip.AddrPort, buf *Buf, flags Flags, i *irp.IRP) irp.Status {
		if st, ok := l.enter(m, s, i); !ok {
			return st
		}
		if *next == nil {
			return missing(i)
		}
		return (*next)(s, remote, buf, flags, i)
	}
}

// layerAccept wraps WskAccept.
func layerAccept[F ~func(*Socket, Flags, any, *ClientConnectionDispatch, *netip.AddrPort, *netip.AddrPort,
	*irp.IRP) irp.Status](l *layer, m Member, next *F) F {
	return func(s *Socket, flags Flags, acceptContext any, acceptDispatch *ClientConnectionDispatch,
		local, remote *netip.AddrPort, i *irp.IRP) irp.Status {
		if st, ok := l.enter(m, s, i); !ok {
			return st
		}
		if *next == nil {
			return missing(i)
		}
		return (*next)(s, flags, acceptContext, acceptDispatch, local, remote, i)
	}
}

// layerInspectComplete wraps WskInspectComplete.
func layerInspectComplete[F ~func(*Socket, *InspectID, InspectAction, *irp.IRP) irp.Status](
	l *layer, m Member, next *F) F {
	return func(s *Socket, id *InspectID, action InspectAction, i *irp.IRP) irp.Status {
		if st, ok := l.enter(m, s, i); !ok {
			return st
		}
		if *next == nil {
			return missing(i)
		}
		return (*next)(s, id, action, i)
	}
}

// layerSendTo wraps WskSendTo and WskSendMessages (L is Buf or BufList).
func layerSendTo[L any, F ~func(*Socket, *L, Flags, *netip.AddrPort, []byte, *irp.IRP) irp.Status](
	l *layer, m Member, next *F) F {
	return func(s *Socket, bufs *L, flags Flags, remote *netip.AddrPort, control []byte, i *irp.IRP) irp.Status {
		if st, ok := l.enter(m, s, i); !ok {
			return st
		}
		if *next == nil {
			return missing(i)
		}
		return (*next)(s, bufs, flags, remote, control, i)
	}
}

// layerReceiveFrom wraps WskReceiveFrom.
func layerReceiveFrom[F ~func(*Socket, *Buf, Flags, *netip.AddrPort, []byte, *int, *uint32, *irp.IRP) irp.Status](
	l *layer, m Member, next *F) F {
	return func(s *Socket, buf *Buf, flags Flags, remote *netip.AddrPort, control []byte, controlLen *int,
		controlFlags *uint32, i *irp.IRP) irp.Status {
		if st, ok := l.enter(m, s, i); !ok {
			return st
		}
		if *next == nil {
			return missing(i)
		}
		return (*next)(s, buf, flags, remote, control, controlLen, controlFlags, i)
	}
}

// layerRelease wraps WskRelease of every category (L is DataIndication or DatagramIndication).
// It has no IRP, so the filter is only told of the call.
func layerRelease[L any, F ~func(*Socket, *L) irp.Status](l *layer, m Member, next *F) F {
	return func(s *Socket, list *L) irp.Status {
		l.f.Call(m, s, nil)
		if *next == nil {
			return irp.NotSupported
		}
		return (*next)(s, list)
	}
}

// The table builders, one per category, each a method returning the layered table of next.

func (l *layer) basicTable(next *BasicDispatch) BasicDispatch {
	return BasicDispatch{
		ControlSocket: layerControl(l, MemberControlSocket, &next.ControlSocket),
		CloseSocket:   layerIRPOnly(l, MemberCloseSocket, &next.CloseSocket),
		layers:        next.layers + 1,
	}
}

func (l *layer) listenTable(next *ListenDispatch) *ListenDispatch {
	return &ListenDispatch{
		BasicDispatch:   l.basicTable(&next.BasicDispatch),
		Bind:            layerAddrFlags(l, MemberBind, &next.Bind),
		Accept:          layerAccept(l, MemberAccept, &next.Accept),
		InspectComplete: layerInspectComplete(l, MemberInspectComplete, &next.InspectComplete),
		GetLocalAddress: layerAddr(l, MemberGetLocalAddress, &next.GetLocalAddress),
	}
}

func (l *layer) datagramTable(next *DatagramDispatch) *DatagramDispatch {
	return &DatagramDispatch{
		BasicDispatch:   l.basicTable(&next.BasicDispatch),
		Bind:            layerAddrFlags(l, MemberBind, &next.Bind),
		SendTo:          layerSendTo(l, MemberSendTo, &next.SendTo),
		ReceiveFrom:     layerReceiveFrom(l, MemberReceiveFrom, &next.ReceiveFrom),
		Release:         layerRelease(l, MemberRelease, &next.Release),
		GetLocalAddress: layerAddr(l, MemberGetLocalAddress, &next.GetLocalAddress),
		SendMessages:    layerSendTo(l, MemberSendMessages, &next.SendMessages),
	}
}

func (l *layer) connectionTable(next *ConnectionDispatch) *ConnectionDispatch {
	return &ConnectionDispatch{
		BasicDispatch:    l.basicTable(&next.BasicDispatch),
		Bind:             layerAddrFlags(l, MemberBind, &next.Bind),
		Connect:          layerAddrFlags(l, MemberConnect, &next.Connect),
		GetLocalAddress:  layerAddr(l, MemberGetLocalAddress, &next.GetLocalAddress),
		GetRemoteAddress: layerAddr(l, MemberGetRemoteAddress, &next.GetRemoteAddress),
		Send:             layerBuf(l, MemberSend, &next.Send),
		Receive:          layerBuf(l, MemberReceive, &next.Receive),
		Disconnect:       layerBuf(l, MemberDisconnect, &next.Disconnect),
		Release:          layerRelease(l, MemberRelease, &next.Release),
		ConnectEx:        layerConnectEx(l, MemberConnectEx, &next.ConnectEx),
		SendEx:           reserved,
		ReceiveEx:        reserved,
	}
}

func (l *layer) streamTable(next *StreamDispatch) *StreamDispatch {
	return &StreamDispatch{
		BasicDispatch:    l.basicTable(&next.BasicDispatch),
		Bind:             layerAddrFlags(l, MemberBind, &next.Bind),
		Accept:           layerAccept(l, MemberAccept, &next.Accept),
		Connect:          layerAddrFlags(l, MemberConnect, &next.Connect),
		Listen:           layerIRPOnly(l, MemberListen, &next.Listen),
		Send:             layerBuf(l, MemberSend, &next.Send),
		Receive:          layerBuf(l, MemberReceive, &next.Receive),
		Disconnect:       layerBuf(l, MemberDisconnect, &next.Disconnect),
		Release:          layerRelease(l, MemberRelease, &next.Release),
		GetLocalAddress:  layerAddr(l, MemberGetLocalAddress, &next.GetLocalAddress),
		GetRemoteAddress: layerAddr(l, MemberGetRemoteAddress, &next.GetRemoteAddress),
		ConnectEx:        layerConnectEx(l, MemberConnectEx, &next.ConnectEx),
		SendEx:           reserved,
		ReceiveEx:        reserved,
	}
}
