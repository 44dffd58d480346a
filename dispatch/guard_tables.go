package dispatch

// Static guard tables, one per category (SPEC.md §2.4 order). Socket.Init points
// Socket.Dispatch at one of these; the members find the socket's own inner table.

var listenGuard = ListenDispatch{
	BasicDispatch:   basicGuard,
	Bind:            guardBind,
	Accept:          guardAccept,
	InspectComplete: guardInspectComplete,
	GetLocalAddress: guardGetLocalAddress,
}

var datagramGuard = DatagramDispatch{
	BasicDispatch:   basicGuard,
	Bind:            guardBind,
	SendTo:          guardSendTo,
	ReceiveFrom:     guardReceiveFrom,
	Release:         guardReleaseDatagram,
	GetLocalAddress: guardGetLocalAddress,
	SendMessages:    guardSendMessages,
}

var connectionGuard = ConnectionDispatch{
	BasicDispatch:    basicGuard,
	Bind:             guardBind,
	Connect:          guardConnect,
	GetLocalAddress:  guardGetLocalAddress,
	GetRemoteAddress: guardGetRemoteAddress,
	Send:             guardSend,
	Receive:          guardReceive,
	Disconnect:       guardDisconnect,
	Release:          guardRelease,
	ConnectEx:        guardConnectEx,
	SendEx:           reserved,
	ReceiveEx:        reserved,
}

var streamGuard = StreamDispatch{
	BasicDispatch:    basicGuard,
	Bind:             guardBind,
	Accept:           guardAccept,
	Connect:          guardConnect,
	Listen:           guardListen,
	Send:             guardSend,
	Receive:          guardReceive,
	Disconnect:       guardDisconnect,
	Release:          guardRelease,
	GetLocalAddress:  guardGetLocalAddress,
	GetRemoteAddress: guardGetRemoteAddress,
	ConnectEx:        guardConnectEx,
	SendEx:           reserved,
	ReceiveEx:        reserved,
}
