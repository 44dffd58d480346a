package dispatch

import (
	"net/netip"

	"github.com/gowsk/gowsk/irp"
)

// Guard members that take an IRP. Each one is the same shape: begin (nil IRP →
// InvalidParameter; refused → InvalidHandle, the provider untouched; else the IRP enters
// ProviderDevice), look up the member in the socket's inner table, call it, end.

// guardBind guards WskBind.
func guardBind(s *Socket, local netip.AddrPort, flags Flags, i *irp.IRP) irp.Status {
	st, ok, held := s.begin(i)
	if !ok {
		return st
	}
	defer s.end(held)
	var f BindFunc
	switch t := s.inner.(type) {
	case *ListenDispatch:
		f = t.Bind
	case *DatagramDispatch:
		f = t.Bind
	case *ConnectionDispatch:
		f = t.Bind
	case *StreamDispatch:
		f = t.Bind
	}
	if f == nil {
		return missing(i)
	}
	return f(s, local, flags, i)
}

// guardAccept guards WskAccept.
func guardAccept(s *Socket, flags Flags, acceptContext any, acceptDispatch *ClientConnectionDispatch, local, remote *netip.AddrPort, i *irp.IRP) irp.Status {
	st, ok, held := s.begin(i)
	if !ok {
		return st
	}
	defer s.end(held)
	var f AcceptFunc
	switch t := s.inner.(type) {
	case *ListenDispatch:
		f = t.Accept
	case *StreamDispatch:
		f = t.Accept
	}
	if f == nil {
		return missing(i)
	}
	return f(s, flags, acceptContext, acceptDispatch, local, remote, i)
}

// guardInspectComplete guards WskInspectComplete.
func guardInspectComplete(s *Socket, id *InspectID, action InspectAction, i *irp.IRP) irp.Status {
	st, ok, held := s.begin(i)
	if !ok {
		return st
	}
	defer s.end(held)
	var f InspectCompleteFunc
	switch t := s.inner.(type) {
	case *ListenDispatch:
		f = t.InspectComplete
	}
	if f == nil {
		return missing(i)
	}
	return f(s, id, action, i)
}

// guardGetLocalAddress guards WskGetLocalAddress.
func guardGetLocalAddress(s *Socket, addr *netip.AddrPort, i *irp.IRP) irp.Status {
	st, ok, held := s.begin(i)
	if !ok {
		return st
	}
	defer s.end(held)
	var f GetAddressFunc
	switch t := s.inner.(type) {
	case *ListenDispatch:
		f = t.GetLocalAddress
	case *DatagramDispatch:
		f = t.GetLocalAddress
	case *ConnectionDispatch:
		f = t.GetLocalAddress
	case *StreamDispatch:
		f = t.GetLocalAddress
	}
	if f == nil {
		return missing(i)
	}
	return f(s, addr, i)
}

// guardGetRemoteAddress guards WskGetRemoteAddress.
func guardGetRemoteAddress(s *Socket, addr *netip.AddrPort, i *irp.IRP) irp.Status {
	st, ok, held := s.begin(i)
	if !ok {
		return st
	}
	defer s.end(held)
	var f GetAddressFunc
	switch t := s.inner.(type) {
	case *ConnectionDispatch:
		f = t.GetRemoteAddress
	case *StreamDispatch:
		f = t.GetRemoteAddress
	}
	if f == nil {
		return missing(i)
	}
	return f(s, addr, i)
}

// guardConnect guards WskConnect.
func guardConnect(s *Socket, remote netip.AddrPort, flags Flags, i *irp.IRP) irp.Status {
	st, ok, held := s.begin(i)
	if !ok {
		return st
	}
	defer s.end(held)
	var f ConnectFunc
	switch t := s.inner.(type) {
	case *ConnectionDispatch:
		f = t.Connect
	case *StreamDispatch:
		f = t.Connect
	}
	if f == nil {
		return missing(i)
	}
	return f(s, remote, flags, i)
}

// guardConnectEx guards WskConnectEx.
func guardConnectEx(s *Socket, remote netip.AddrPort, buf *Buf, flags Flags, i *irp.IRP) irp.Status {
	st, ok, held := s.begin(i)
	if !ok {
		return st
	}
	defer s.end(held)
	var f ConnectExFunc
	switch t := s.inner.(type) {
	case *ConnectionDispatch:
		f = t.ConnectEx
	case *StreamDispatch:
		f = t.ConnectEx
	}
	if f == nil {
		return missing(i)
	}
	return f(s, remote, buf, flags, i)
}

// guardListen guards WskListen.
func guardListen(s *Socket, i *irp.IRP) irp.Status {
	st, ok, held := s.begin(i)
	if !ok {
		return st
	}
	defer s.end(held)
	var f ListenFunc
	switch t := s.inner.(type) {
	case *StreamDispatch:
		f = t.Listen
	}
	if f == nil {
		return missing(i)
	}
	return f(s, i)
}

// guardSend guards WskSend.
func guardSend(s *Socket, buf *Buf, flags Flags, i *irp.IRP) irp.Status {
	st, ok, held := s.begin(i)
	if !ok {
		return st
	}
	defer s.end(held)
	var f SendFunc
	switch t := s.inner.(type) {
	case *ConnectionDispatch:
		f = t.Send
	case *StreamDispatch:
		f = t.Send
	}
	if f == nil {
		return missing(i)
	}
	return f(s, buf, flags, i)
}

// guardReceive guards WskReceive.
func guardReceive(s *Socket, buf *Buf, flags Flags, i *irp.IRP) irp.Status {
	st, ok, held := s.begin(i)
	if !ok {
		return st
	}
	defer s.end(held)
	var f ReceiveFunc
	switch t := s.inner.(type) {
	case *ConnectionDispatch:
		f = t.Receive
	case *StreamDispatch:
		f = t.Receive
	}
	if f == nil {
		return missing(i)
	}
	return f(s, buf, flags, i)
}

// guardDisconnect guards WskDisconnect.
func guardDisconnect(s *Socket, buf *Buf, flags Flags, i *irp.IRP) irp.Status {
	st, ok, held := s.begin(i)
	if !ok {
		return st
	}
	defer s.end(held)
	var f DisconnectFunc
	switch t := s.inner.(type) {
	case *ConnectionDispatch:
		f = t.Disconnect
	case *StreamDispatch:
		f = t.Disconnect
	}
	if f == nil {
		return missing(i)
	}
	return f(s, buf, flags, i)
}

// guardSendTo guards WskSendTo.
func guardSendTo(s *Socket, buf *Buf, flags Flags, remote *netip.AddrPort, control []byte, i *irp.IRP) irp.Status {
	st, ok, held := s.begin(i)
	if !ok {
		return st
	}
	defer s.end(held)
	var f SendToFunc
	switch t := s.inner.(type) {
	case *DatagramDispatch:
		f = t.SendTo
	}
	if f == nil {
		return missing(i)
	}
	return f(s, buf, flags, remote, control, i)
}

// guardReceiveFrom guards WskReceiveFrom.
func guardReceiveFrom(s *Socket, buf *Buf, flags Flags, remote *netip.AddrPort, control []byte, controlLen *int, controlFlags *uint32, i *irp.IRP) irp.Status {
	st, ok, held := s.begin(i)
	if !ok {
		return st
	}
	defer s.end(held)
	var f ReceiveFromFunc
	switch t := s.inner.(type) {
	case *DatagramDispatch:
		f = t.ReceiveFrom
	}
	if f == nil {
		return missing(i)
	}
	return f(s, buf, flags, remote, control, controlLen, controlFlags, i)
}

// guardSendMessages guards WskSendMessages.
func guardSendMessages(s *Socket, bufs *BufList, flags Flags, remote *netip.AddrPort, control []byte, i *irp.IRP) irp.Status {
	st, ok, held := s.begin(i)
	if !ok {
		return st
	}
	defer s.end(held)
	var f SendMessagesFunc
	switch t := s.inner.(type) {
	case *DatagramDispatch:
		f = t.SendMessages
	}
	if f == nil {
		return missing(i)
	}
	return f(s, bufs, flags, remote, control, i)
}
