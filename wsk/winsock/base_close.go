package winsock

import (
	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// closeSocket is the base provider's WSPCloseSocket: a hard close, as the SAN
// provider's (it never returns WSAEWOULDBLOCK or WSAEINPROGRESS):
//
//  1. mark the socket closed: every later call on the handle is WSAENOTSOCK, and no
//     network event is signalled from now on (no FD_ACCEPT, FD_CONNECT or FD_CLOSE
//     during the closure);
//  2. free first, then complete: a send's bytes are the provider's copy, so it
//     completes at once with WSA_OPERATION_ABORTED; every other operation's IRP is
//     cancelled and its routine completes it with WSA_OPERATION_ABORTED once wsk has
//     given the IRP, and the user's buffers, back;
//  3. close the wsk socket, abortively when it may carry a connection, unless the switch
//     took the connection for its graceful close (then the sends already in wsk go on:
//     they are the connection's queued data);
//  4. wait until every operation's user side has completed;
//  5. WPUCloseSocketHandle: the last upcall with the handle.
func (b *base) closeSocket(h Socket) WSAError {
	s, code := b.sockOf(h)
	if code != 0 {
		return code
	}
	s.mu.Lock()
	if s.st.has(bClosed) {
		s.mu.Unlock()
		return irp.WSAENOTSOCK
	}
	s.st |= bClosed
	taken, conn := s.st.has(bTaken), s.st.has(bConnected|bConnecting|bListening)
	ops := make([]*bop, 0, len(s.ops))
	for o := range s.ops {
		ops = append(ops, o)
	}
	var done chan struct{}
	if len(s.ops) > 0 {
		s.opsDone = make(chan struct{})
		done = s.opsDone
	}
	s.ev.closing = true
	backlog := s.ev.backlog
	s.ev.backlog, s.ev.backAddr = nil, nil
	s.mu.Unlock()
	for _, ns := range backlog { // accepted by the event, never handed out: reset
		closeWSK(ns.ws, true)
	}
	for _, o := range ops {
		if o.kind == opSend {
			o.complete(irp.WSAOperationAborted, 0, nil)
			continue
		}
		if o.cl.Cancel(o.i) {
			o.i.Free()
		}
	}
	if !taken {
		closeWSK(s.ws, conn)
	}
	if done != nil {
		<-done
	}
	b.mu.Lock()
	delete(b.socks, s)
	b.mu.Unlock()
	_ = b.up.CloseSocketHandle(h)
	return 0
}

// takeConnection hands the wsk connection to the switch (SIOTakeConnection): the
// provider's hard close that follows will leave it open. WSAENOTCONN for a socket with
// no healthy connection (the switch then closes it hard).
func (s *baseSock) takeConnection(obj *any) WSAError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sotype != SockStream || !s.st.has(bConnected) || s.sticky != 0 {
		return irp.WSAENOTCONN
	}
	s.st |= bTaken
	*obj = s.ws
	return 0
}

// abortAsync resets the connection without waiting (from a completion routine).
func (s *baseSock) abortAsync() {
	s.mu.Lock()
	if s.sticky == 0 {
		s.sticky = irp.WSAECONNABORTED
	}
	s.mu.Unlock()
	s.disconnectAsync(dispatch.FlagAbortive)
}

// disconnectAsync issues a Disconnect whose IRP frees itself.
func (s *baseSock) disconnectAsync(flags dispatch.Flags) {
	i := irp.Allocate(s.ws.StackSize())
	i.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		i.Free()
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	_ = s.conn().disconnect(s.ws, nil, flags, i)
}

// shutdown is WSPShutdown: the wire half of the switch's shutdown. SD_SEND queues a
// graceful Disconnect (FIN after the queued data, never waited for); SD_RECEIVE resets
// if received data is waiting, else watches: data arriving later resets too.
func (b *base) shutdown(h Socket, how int) WSAError {
	s, code := b.sockOf(h)
	if code != 0 {
		return code
	}
	if s.sotype == SockDgram {
		return 0
	}
	s.mu.Lock()
	connected := s.st.has(bConnected)
	s.mu.Unlock()
	if !connected {
		return irp.WSAENOTCONN
	}
	if how == SDReceive || how == SDBoth {
		if n, code := s.receiveBacklog(); code == 0 && n > 0 {
			s.abortAsync()
			return 0
		}
		o, code := s.newSilentOp(opRecv)
		if code != 0 {
			return code
		}
		o.watch = true
		o.buf = dispatch.MakeBuf(make([]byte, 1))
		_ = s.conn().receive(s.ws, &o.buf, 0, o.i)
	}
	if how == SDSend || how == SDBoth {
		s.disconnectAsync(0)
	}
	return 0
}

// shutdown's how values (SD_*).
const (
	SDReceive = 0
	SDSend    = 1
	SDBoth    = 2
)
