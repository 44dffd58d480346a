//go:build unix || windows

package wsk

import (
	"net/netip"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/internal/sock"
)

// basicTable is the provider table of basic sockets (options and IOCTLs only).
var basicTable = dispatch.BasicDispatch{ControlSocket: controlSocket, CloseSocket: closeSocket}

// connectionTable is the provider table of connection-oriented sockets. SendEx and
// ReceiveEx stay nil: dispatch's guard answers the reserved slots itself.
var connectionTable = dispatch.ConnectionDispatch{
	BasicDispatch:    basicTable,
	Bind:             connBind,
	Connect:          connConnect,
	GetLocalAddress:  connGetLocalAddress,
	GetRemoteAddress: connGetRemoteAddress,
	Send:             connSend,
	Receive:          connReceive,
	Disconnect:       connDisconnect,
	Release:          connRelease,
	ConnectEx:        connConnectEx,
}

// reserveSocket takes a socket's registration reference and a MaxSockets slot.
func (r *Registration) reserveSocket() irp.Status {
	for {
		n := r.ctr.socketsOpen.Load()
		if n >= int64(r.limits.MaxSockets) {
			r.ctr.limitRejections.Add(1)
			return irp.InsufficientResources
		}
		if r.ctr.socketsOpen.CompareAndSwap(n, n+1) {
			break
		}
	}
	if r.deregistering.Load() || !r.rd.Acquire() {
		r.ctr.socketsOpen.Add(-1)
		return irp.DeviceNotReady
	}
	return irp.Success
}

// unreserveSocket gives back what reserveSocket took, for a socket that never came to be.
func (r *Registration) unreserveSocket() {
	r.ctr.socketsOpen.Add(-1)
	r.rd.Release()
}

// socketClosed accounts the end of a socket (its registration reference is dropped by
// the caller, after the close IRP completed).
func (r *Registration) socketClosed() {
	r.ctr.socketsOpen.Add(-1)
	r.ctr.socketsClosed.Add(1)
}

// newSocket creates the OS socket (nonblocking, close-on-exec), registers it with the
// engine and builds the record around it, with table as its inner dispatch table. cat
// must be the table's category: the socket reads its category from the table
// (socket.category).
func (r *Registration) newSocket(cat dispatch.SocketFlags, family, sotype, proto int,
	table any, socketContext, clientDispatch any) (*socket, irp.Status) {
	if st := r.reserveSocket(); st != irp.Success {
		return nil, st
	}
	fd, err := sock.Socket(family, sotype, proto)
	if err != nil {
		r.unreserveSocket()
		return nil, sock.Status(err)
	}
	s := &socket{reg: r, family: uint8(family), fd: fd,
		socketContext: socketContext, clientDispatch: clientDispatch}
	if st := r.registerSocket(s, table); st != irp.Success {
		_ = sock.Close(fd)
		return nil, st
	}
	if s.category() != cat {
		panic("wsk: newSocket: the table is not of the socket's category")
	}
	return s, irp.Success
}

// registerSocket finishes a record whose descriptor is open and whose reservation is
// taken: it applies the static event callbacks (WSK_SET_STATIC_EVENT_CALLBACKS, events.go;
// they start when the socket is handed out), points the dispatch.Socket at table and
// registers the descriptor with the engine. On failure it gives the reservation back; the
// caller still owns the descriptor.
func (r *Registration) registerSocket(s *socket, table any) irp.Status {
	s.ws.Init(r.layered(table), s) // first: the category comes from the table
	s.applyStaticEvents()
	efd, err := r.eng.Register(s.fd, s)
	if err != nil {
		r.unreserveSocket()
		return irp.FromError(err)
	}
	s.efd = efd
	r.ctr.socketsCreated.Add(1)
	return irp.Success
}

// wskSocket is WskSocket. flags selects the category: basic (0), listen, connection,
// datagram or stream; any other value is STATUS_INVALID_PARAMETER. A basic socket takes
// no context and no dispatch table. On success IoStatus.Object holds the *dispatch.Socket.
func wskSocket(c *dispatch.Client, family, sotype, protocol int, flags dispatch.SocketFlags,
	socketContext any, clientDispatch any, i *irp.IRP) irp.Status {
	r, st, ok := beginClientCall(c, i)
	if !ok {
		return st
	}
	defer r.leaveCall()
	fam := osFamily(family)
	if fam == 0 {
		return failIRP(i, irp.InvalidParameter)
	}
	clientDispatch = untypedNilTable(clientDispatch)
	var s *socket
	switch flags {
	case dispatch.BasicSocket:
		if socketContext != nil || clientDispatch != nil || (sotype != SockStream && sotype != SockDgram) {
			return failIRP(i, irp.InvalidParameter)
		}
		s, st = r.newSocket(flags, fam, sotype, protocol, &basicTable, nil, nil)
	case dispatch.ConnectionSocket:
		if sotype != SockStream || (protocol != 0 && protocol != IPProtoTCP) {
			return failIRP(i, irp.InvalidParameter)
		}
		if _, ok := clientDispatch.(*dispatch.ClientConnectionDispatch); clientDispatch != nil && !ok {
			return failIRP(i, irp.InvalidParameter)
		}
		s, st = r.newSocket(flags, fam, sock.SockStream, sock.IPProtoTCP, &connectionTable, socketContext, clientDispatch)
	case dispatch.DatagramSocket:
		s, st = r.newDatagramSocket(fam, sotype, protocol, socketContext, clientDispatch)
	case dispatch.ListenSocket:
		s, st = r.newListenSocket(fam, sotype, protocol, socketContext, clientDispatch)
	case dispatch.StreamSocket:
		s, st = r.newStreamSocket(fam, sotype, protocol, socketContext, clientDispatch)
	default:
		return failIRP(i, irp.InvalidParameter)
	}
	if st != irp.Success {
		return failIRP(i, st)
	}
	i.CompleteObject(irp.Success, 0, &s.ws)
	return irp.Success
}

// untypedNilTable turns a typed nil client table (a nil *dispatch.ClientXxxDispatch held
// in the interface, what Go code passing a nil pointer variable produces) into an
// untyped nil: the application gave no table, and no constructor may dereference it.
func untypedNilTable(cd any) any {
	switch t := cd.(type) {
	case *dispatch.ClientConnectionDispatch:
		if t == nil {
			return nil
		}
	case *dispatch.ClientListenDispatch:
		if t == nil {
			return nil
		}
	case *dispatch.ClientDatagramDispatch:
		if t == nil {
			return nil
		}
	case *dispatch.ClientStreamDispatch:
		if t == nil {
			return nil
		}
	}
	return cd
}

// wskSocketConnect is WskSocketConnect: create, bind (local may be the zero AddrPort:
// any address of remote's family) and connect one connection socket. The IRP completes
// with the socket in IoStatus.Object once connected; on failure the provider destroys
// the socket it made.
func wskSocketConnect(c *dispatch.Client, sotype, protocol int, local, remote netip.AddrPort,
	flags dispatch.SocketFlags, socketContext any, clientDispatch *dispatch.ClientConnectionDispatch,
	i *irp.IRP) irp.Status {
	r, st, ok := beginClientCall(c, i)
	if !ok {
		return st
	}
	defer r.leaveCall()
	if flags != 0 || sotype != SockStream || (protocol != 0 && protocol != IPProtoTCP) || !remote.IsValid() {
		return failIRP(i, irp.InvalidParameter)
	}
	fam := familyOf(remote)
	if local.IsValid() {
		fam = familyOf(local)
	}
	var cd any
	if clientDispatch != nil {
		cd = clientDispatch
	}
	s, st := r.newSocket(dispatch.ConnectionSocket, fam, sock.SockStream, sock.IPProtoTCP, &connectionTable, socketContext, cd)
	if st != irp.Success {
		return failIRP(i, st)
	}
	if st := s.bind(local); st != irp.Success {
		s.closeProtocol(nil)
		return failIRP(i, st)
	}
	o := &op{i: i, kind: opConnect, obj: &s.ws, after: func(st irp.Status) {
		if st != irp.Success {
			s.closeProtocol(nil)
		}
	}}
	return s.connect(o, remote)
}
