//go:build unix || windows

package wsk

import (
	"net/netip"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/internal/sock"
)

// Datagram sockets (WSK_FLAG_DATAGRAM_SOCKET, UDP over IPv4 or IPv6), SPEC.md §2.4.
//
// They reuse the socket record: ReceiveFrom IRPs live in recvQ and SendTo/SendMessages
// IRPs in sendQ, so cancellation, the limits and the close protocol (which cancels every
// queued IRP with STATUS_CANCELLED before it completes the close IRP) work unchanged. What
// only datagram sockets have lives in a *dgram, which is also the socket's readinessExt:
// the engine's Readable/Writable hand the datagram pumps the loop.

// Control flags a ReceiveFrom reports in *controlFlags (the Windows MSG_* values).
const (
	MsgTrunc  uint32 = 0x0100 // MSG_TRUNC: the datagram was larger than the buffer; the rest is lost
	MsgCTrunc uint32 = 0x0200 // MSG_CTRUNC: the control data did not fit
	MsgBcast  uint32 = 0x0400 // MSG_BCAST
	MsgMcast  uint32 = 0x0800 // MSG_MCAST
)

// maxDatagramBacklog bounds the datagrams the provider holds that nobody took yet (no ReceiveFrom
// queued, the receive event disabled or refusing). The kernel is drained on every readable edge
// (the engine is edge-triggered), so without this bound a silent application would make the
// provider buffer without end. When full, new datagrams are dropped and counted (dgram.dropped,
// Stats.DatagramsDropped): UDP semantics, as when the kernel's own receive buffer overflows.
const maxDatagramBacklog = 256

// datagramTable is the provider table of datagram sockets.
var datagramTable = dispatch.DatagramDispatch{
	BasicDispatch:   basicTable,
	Bind:            dgBind,
	SendTo:          dgSendTo,
	ReceiveFrom:     dgReceiveFrom,
	Release:         dgRelease,
	GetLocalAddress: dgGetLocalAddress,
	SendMessages:    dgSendMessages,
}

// dgram is the datagram part of a socket record. Every field is guarded by socket.mu.
// Whether a ReceiveFromEvent call is running is socket.gate's (events.go): the calls are
// serial per socket, and a disable waits for the running one.
type dgram struct {
	remote   netip.AddrPort // SIO_WSK_SET_REMOTE_ADDRESS: the fixed peer (invalid: none)
	sendTo   netip.AddrPort // SIO_WSK_SET_SENDTO_ADDRESS: default destination (invalid: none)
	backlog  []*dgramBuf    // received, not yet taken, oldest first (≤ maxDatagramBacklog)
	lent     map[*dispatch.DatagramIndication][]*dgramBuf
	dropped  int  // datagrams dropped: backlog full, or from a source other than remote
	refused  bool // a static ReceiveFromEvent said DATA_NOT_ACCEPTED: wait for news (datagram_events.go)
	deadSent bool // the dead socket's NULL list was delivered (invariant 37)
}

// dgArgs are the arguments of a datagram op (op.dg).
type dgArgs struct {
	// ReceiveFrom.
	remote       *netip.AddrPort
	controlLen   *int
	controlFlags *uint32
	// SendTo / SendMessages: one Buf per datagram, sent in order.
	to    netip.AddrPort
	bufs  []dispatch.Buf
	next  int
	total int
}

// dgOf returns the datagram part of s (nil for another category).
func dgOf(s *socket) *dgram {
	d, _ := s.ext.(*dgram)
	return d
}

// newDatagramSocket is the datagram case of WskSocket.
func (r *Registration) newDatagramSocket(fam, sotype, protocol int, socketContext, clientDispatch any) (*socket, irp.Status) {
	if sotype != SockDgram || (protocol != 0 && protocol != IPProtoUDP) {
		return nil, irp.InvalidParameter
	}
	if _, ok := clientDispatch.(*dispatch.ClientDatagramDispatch); clientDispatch != nil && !ok {
		return nil, irp.InvalidParameter
	}
	s, st := r.newSocket(dispatch.DatagramSocket, fam, sock.SockDgram, sock.IPProtoUDP, &datagramTable, socketContext, clientDispatch)
	if st != irp.Success {
		return nil, st
	}
	s.mu.Lock()
	s.ext = &dgram{lent: make(map[*dispatch.DatagramIndication][]*dgramBuf)}
	s.mu.Unlock()
	return s, irp.Success
}

// dgBind is WskBind of a datagram socket: flags must be 0; the zero AddrPort binds the
// wildcard address and an ephemeral port; binding twice is STATUS_INVALID_DEVICE_STATE.
func dgBind(ws *dispatch.Socket, local netip.AddrPort, flags dispatch.Flags, i *irp.IRP) irp.Status {
	if flags != 0 {
		return failIRP(i, irp.InvalidParameter)
	}
	return failIRP(i, sockOf(ws).bind(local))
}

// dgGetLocalAddress is WskGetLocalAddress: STATUS_INVALID_DEVICE_STATE until bound.
func dgGetLocalAddress(ws *dispatch.Socket, addr *netip.AddrPort, i *irp.IRP) irp.Status {
	return sockOf(ws).getAddress(addr, i, stBound, sock.LocalAddr)
}

// dgSendTo is WskSendTo: one datagram to remote, or (remote nil) to the send-to address
// or else the fixed remote address set by IOCTL; with neither, STATUS_INVALID_PARAMETER.
// The socket must be bound (STATUS_INVALID_DEVICE_STATE). Flags must be 0; control data
// is not supported (STATUS_NOT_SUPPORTED). The IRP completes, with the bytes sent, once
// the datagram is in the kernel: at once on the caller, or on writability when the send
// buffer is full (EAGAIN). A per-datagram error (say ECONNREFUSED reported by ICMP) fails
// only that request.
func dgSendTo(ws *dispatch.Socket, buf *dispatch.Buf, flags dispatch.Flags, remote *netip.AddrPort, control []byte, i *irp.IRP) irp.Status {
	if buf == nil || !buf.Valid() {
		return failIRP(i, irp.InvalidParameter)
	}
	return sockOf(ws).sendDatagrams([]dispatch.Buf{*buf}, flags, remote, control, i)
}

// dgSendMessages is WskSendMessages: every element of bufs is one datagram, sent in list
// order to the same destination (chosen as for SendTo). Information is the total of the
// bytes sent. An error on one datagram completes the IRP with that error and the bytes
// sent before it; the rest are not sent. An empty list is STATUS_INVALID_PARAMETER.
func dgSendMessages(ws *dispatch.Socket, bufs *dispatch.BufList, flags dispatch.Flags, remote *netip.AddrPort, control []byte, i *irp.IRP) irp.Status {
	var list []dispatch.Buf
	for e := bufs; e != nil; e = e.Next {
		if !e.Buffer.Valid() || len(list) == maxDatagramBacklog {
			return failIRP(i, irp.InvalidParameter)
		}
		list = append(list, e.Buffer)
	}
	if len(list) == 0 {
		return failIRP(i, irp.InvalidParameter)
	}
	return sockOf(ws).sendDatagrams(list, flags, remote, control, i)
}

// sendDatagrams admits and queues one send op for bufs and pushes it if it is first.
func (s *socket) sendDatagrams(bufs []dispatch.Buf, flags dispatch.Flags, remote *netip.AddrPort, control []byte, i *irp.IRP) irp.Status {
	switch {
	case flags != 0:
		return failIRP(i, irp.InvalidParameter)
	case len(control) != 0:
		return failIRP(i, irp.NotSupported)
	}
	bytes := 0
	for k := range bufs {
		bytes += bufs[k].Length
	}
	a := &dgArgs{bufs: bufs}
	o := &op{i: i, kind: opSend, dg: a}
	var out []*op
	s.mu.Lock()
	d := dgOf(s)
	st := s.checkLocked(stBound)
	if st == irp.Success {
		dst := netip.AddrPort{}
		switch {
		case remote != nil:
			dst = *remote
		case d.sendTo.IsValid():
			dst = d.sendTo
		case d.remote.IsValid():
			dst = d.remote
		}
		if !dst.IsValid() || dst.Port() == 0 {
			st = irp.InvalidParameter
		} else {
			a.to, st = dst, checkAddr(int(s.family), dst)
		}
	}
	if st = s.admitAndQueueLocked(o, st, bytes, &s.sendQ); st != irp.Success {
		s.mu.Unlock()
		return o.failUnadmitted(st)
	}
	if s.sendQ.single() {
		s.pumpDatagramSendLocked(&out)
	}
	st = s.pendLocked(o, &out)
	s.mu.Unlock()
	return s.syncResult(out, st)
}

// dgReceiveFrom is WskReceiveFrom: the next datagram is copied into buf; the IRP
// completes with the bytes copied. remote (optional) gets the sender. When controlLen is
// not nil it gets the control data length (always 0: the provider asks the kernel for no
// ancillary data) and controlFlags (if not nil) gets MsgTrunc when the datagram was
// larger than buf — the rest of it is lost, as with recvfrom. Flags must be 0; the socket
// must be bound. Queued ReceiveFrom IRPs are served in order, before the receive event
// (invariant 31); with a fixed remote address, datagrams from other sources are dropped.
func dgReceiveFrom(ws *dispatch.Socket, buf *dispatch.Buf, flags dispatch.Flags, remote *netip.AddrPort,
	control []byte, controlLen *int, controlFlags *uint32, i *irp.IRP) irp.Status {
	if buf == nil || !buf.Valid() || flags != 0 {
		return failIRP(i, irp.InvalidParameter)
	}
	s := sockOf(ws)
	o := &op{i: i, kind: opRecv, buf: *buf, dg: &dgArgs{remote: remote, controlLen: controlLen, controlFlags: controlFlags}}
	var out []*op
	s.mu.Lock()
	if st := s.admitAndQueueLocked(o, s.checkLocked(stBound), 0, &s.recvQ); st != irp.Success {
		s.mu.Unlock()
		return o.failUnadmitted(st)
	}
	if s.recvQ.single() {
		if s.pumpDatagramRecvLocked(&out) != nil {
			dgOf(s).dieLocked(s, &out)
			s.postReadable() // the loop tells an enabled ReceiveFromEvent (NULL list)
		}
	}
	st := s.pendLocked(o, &out)
	s.mu.Unlock()
	return s.syncResult(out, st)
}

// dgRelease is WskRelease of a datagram socket: it gives back a list the application
// retained by returning irp.Pending from ReceiveFromEvent. The first element must be the
// one the event passed; any other pointer (a list never lent, or released already) is
// STATUS_INVALID_PARAMETER; a dead socket refuses it like every other call
// (STATUS_FILE_FORCED_CLOSED). Safe on any goroutine; no IRP.
func dgRelease(ws *dispatch.Socket, list *dispatch.DatagramIndication) irp.Status {
	s := sockOf(ws)
	s.mu.Lock()
	if s.state.has(stDead) {
		s.mu.Unlock()
		return irp.FileForcedClosed
	}
	d := dgOf(s)
	bufs, ok := d.lent[list]
	if ok {
		delete(d.lent, list)
	}
	s.mu.Unlock()
	if !ok || list == nil {
		return irp.InvalidParameter
	}
	for _, b := range bufs {
		putDgramBuf(b)
	}
	return irp.Success
}

// datagramIoctl serves SIO_WSK_SET_REMOTE_ADDRESS and SIO_WSK_SET_SENDTO_ADDRESS (SPEC.md §2.9)
// on a bound datagram socket (STATUS_INVALID_DEVICE_STATE before bind). in is a SOCKADDR
// (see SockaddrBytes); an input of size 0 clears the address. The remote address connects
// the kernel socket, so the kernel filters incoming datagrams by source (the provider
// also drops, and counts, any already queued from another source); clearing it
// disconnects. The IRP is optional.
func (s *socket) datagramIoctl(code uint32, in []byte, i *irp.IRP) irp.Status {
	var a netip.AddrPort
	if len(in) != 0 {
		var ok bool
		if a, ok = ParseSockaddr(in); !ok || a.Port() == 0 {
			return ctlDone(i, irp.InvalidParameter, 0, nil)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := dgOf(s)
	if st := s.checkLocked(stBound); st != irp.Success {
		return ctlDone(i, st, 0, nil)
	}
	if code == dispatch.SIOWskSetSendToAddress {
		if a.IsValid() {
			if st := checkAddr(int(s.family), a); st != irp.Success {
				return ctlDone(i, st, 0, nil)
			}
		}
		d.sendTo = a
		return ctlDone(i, irp.Success, 0, nil)
	}
	if !a.IsValid() {
		if err := sock.Dissociate(s.fd, int(s.family)); err != nil {
			return ctlDone(i, sock.Status(err), 0, nil)
		}
		d.remote = netip.AddrPort{}
		return ctlDone(i, irp.Success, 0, nil)
	}
	if st := checkAddr(int(s.family), a); st != irp.Success {
		return ctlDone(i, st, 0, nil)
	}
	if err := sock.Connect(s.fd, int(s.family), a); err != nil {
		return ctlDone(i, sock.Status(err), 0, nil)
	}
	d.remote = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	return ctlDone(i, irp.Success, 0, nil)
}
