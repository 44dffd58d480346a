//go:build unix || windows

package wsk

import (
	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// Stream sockets (WSK_FLAG_STREAM_SOCKET, Windows 10 1703): one socket that becomes a
// listener or a connection. After Bind, WskListen commits it to listening and WskConnect
// or WskConnectEx to a connection; once committed, the other role's functions return
// STATUS_INVALID_DEVICE_STATE (the state word does it: stListening refuses connects and
// I/O, stConnecting/stConnected refuse Listen and Accept). The members delegate to the
// listen (listen.go, listen_accept.go) and connection (conn.go) implementations. Sockets it
// accepts are connection sockets.

// streamTable is the provider table of stream sockets (SPEC.md §2.4 order). SendEx and ReceiveEx
// stay nil: dispatch's guard answers the reserved slots itself.
var streamTable = dispatch.StreamDispatch{
	BasicDispatch:    basicTable,
	Bind:             connBind,
	Accept:           listenAccept,
	Connect:          connConnect,
	Listen:           streamListen,
	Send:             connSend,
	Receive:          connReceive,
	Disconnect:       connDisconnect,
	Release:          connRelease,
	GetLocalAddress:  connGetLocalAddress,
	GetRemoteAddress: connGetRemoteAddress,
	ConnectEx:        connConnectEx,
}

// newStreamSocket creates a stream socket: TCP only; the client table, if any, must be a
// *dispatch.ClientStreamDispatch, whose Listen half serves the listening role.
func (r *Registration) newStreamSocket(fam, sotype, proto int, ctx, cd any) (*socket, irp.Status) {
	if sotype != SockStream || (proto != 0 && proto != IPProtoTCP) {
		return nil, irp.InvalidParameter
	}
	var cl *dispatch.ClientListenDispatch
	if cd != nil {
		c, ok := cd.(*dispatch.ClientStreamDispatch)
		if !ok {
			return nil, irp.InvalidParameter
		}
		cl = c.Listen
	}
	s, st := r.newSocket(dispatch.StreamSocket, fam, SockStream, IPProtoTCP, &streamTable, ctx, cd)
	if st != irp.Success {
		return nil, st
	}
	s.mu.Lock() // not published yet, but registered: the loop may look at s.cold
	s.coldLocked().lst = &listener{client: cl}
	s.mu.Unlock()
	return s, irp.Success
}

// streamListen is WskListen: the socket must be bound and not connecting or connected
// (STATUS_INVALID_DEVICE_STATE); it listens from then on. Completes synchronously.
func streamListen(ws *dispatch.Socket, i *irp.IRP) irp.Status {
	return failIRP(i, sockOf(ws).startListen())
}
