package dispatch

import (
	"net/netip"

	"github.com/gowsk/gowsk/irp"
)

// ClientDispatch is WSK_CLIENT_DISPATCH. The client tables (SPEC.md §2.5, members in the
// header's order) are the application's callbacks: see the package doc's Callbacks section
// for the rules they run under (engine goroutine, never block, never wait on their own
// socket, under recover).
type ClientDispatch struct {
	Version  uint16
	Reserved uint16
	// WskClientEvent: no events are defined; return irp.NotImplemented.
	ClientEvent func(clientContext any, eventType uint32, info []byte) irp.Status
}

// ClientListenDispatch is WSK_CLIENT_LISTEN_DISPATCH.
type ClientListenDispatch struct {
	// WskAcceptEvent. accept == nil means the listener is dead: close it. Return
	// irp.Success with the new socket's context and connection callbacks to keep it, or
	// irp.RequestNotAccepted to reject it (the provider closes it; the peer sees a reset).
	AcceptEvent func(socketContext any, flags Flags, local, remote netip.AddrPort,
		accept *Socket) (status irp.Status, acceptContext any, acceptDispatch *ClientConnectionDispatch)
	// WskInspectEvent. id == nil means the listener is dead. Copy *id by value.
	InspectEvent func(socketContext any, local, remote netip.AddrPort, id *InspectID) InspectAction
	// WskAbortEvent.
	AbortEvent func(socketContext any, id *InspectID) irp.Status
}

// ClientDatagramDispatch is WSK_CLIENT_DATAGRAM_DISPATCH.
type ClientDatagramDispatch struct {
	// WskReceiveFromEvent. list == nil means the socket is dead. Return irp.Success (all
	// consumed), irp.Pending (retained: give it back with the table's Release), or
	// irp.DataNotAccepted.
	ReceiveFromEvent func(socketContext any, flags Flags, list *DatagramIndication) irp.Status
}

// ClientConnectionDispatch is WSK_CLIENT_CONNECTION_DISPATCH.
type ClientConnectionDispatch struct {
	// WskReceiveEvent, called serially per socket. list == nil means the socket is dead.
	// Return irp.Success (all taken, or part taken with *bytesAccepted set), irp.Pending
	// (retained until Release), or irp.DataNotAccepted.
	ReceiveEvent func(socketContext any, flags Flags, list *DataIndication,
		bytesIndicated int, bytesAccepted *int) irp.Status
	// WskDisconnectEvent: flags has FlagAbortive for a reset, clear for a graceful FIN.
	DisconnectEvent func(socketContext any, flags Flags) irp.Status
	// WskSendBacklogEvent.
	SendBacklogEvent func(socketContext any, idealBacklogSize int) irp.Status
}

// ClientStreamDispatch is WSK_CLIENT_STREAM_DISPATCH.
type ClientStreamDispatch struct {
	Listen  *ClientListenDispatch
	Connect *ClientConnectionDispatch
}
