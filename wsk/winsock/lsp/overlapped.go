package lsp

import (
	"net/netip"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/winsock"
)

// lop is one overlapped operation of the application passed down: the layer below
// sees sub and the layer's routine; done completes the application's one.
type lop struct {
	l         *Layer
	ls        *lsock
	clientOv  *winsock.Overlapped
	clientCr  winsock.CompletionRoutine
	clientTid winsock.ThreadID
	from      *netip.AddrPort // RecvFrom: the application's
	subFrom   netip.AddrPort  // what the layer below writes
	sub       *winsock.Overlapped

	err   winsock.WSAError
	n     uint32
	flags uint32
}

type downCall func(lower winsock.Socket, sub *winsock.Overlapped, cr winsock.CompletionRoutine,
	tid *winsock.ThreadID, from *netip.AddrPort) (uint32, winsock.WSAError)

// overlapped is every data member: synchronous calls go straight down on the caller;
// overlapped ones get a substitute and are issued from the worker.
func (l *Layer) overlapped(m Member, s winsock.Socket, ov *winsock.Overlapped, cr winsock.CompletionRoutine,
	tid *winsock.ThreadID, from *netip.AddrPort, call downCall) (uint32, winsock.WSAError) {
	if code := l.enter(m); code != 0 {
		return 0, code
	}
	ls, code := l.ctx(s)
	if code != 0 {
		return 0, code
	}
	if ov == nil {
		return call(ls.lower, nil, nil, nil, from)
	}
	if cr != nil && tid == nil {
		return 0, winsock.WSAEFAULT
	}
	op := &lop{l: l, ls: ls, clientOv: ov, clientCr: cr, from: from, sub: &winsock.Overlapped{}}
	op.sub.Begin()
	if tid != nil {
		op.clientTid = *tid
	}
	ls.mu.Lock()
	if ls.closing {
		ls.mu.Unlock()
		return 0, irp.WSAENOTSOCK
	}
	ls.outstanding++
	ls.mu.Unlock()
	l.outstanding.Add(1)
	type result struct {
		n    uint32
		code winsock.WSAError
	}
	res := make(chan result, 1)
	var subFrom *netip.AddrPort
	if from != nil {
		subFrom = &op.subFrom
	}
	if !l.wk.run(func() {
		n, code := call(ls.lower, op.sub, op.done, &l.wk.tid, subFrom)
		res <- result{n, code}
	}) {
		res <- result{0, irp.WSAENETDOWN}
	}
	r := <-res
	if r.code != 0 && r.code != irp.WSAIOPending {
		l.finish(ls) // never started below: nothing will complete
		return 0, r.code
	}
	return r.n, r.code
}

// done is the layer's completion routine, run by the worker at its alertable wait:
// post-process, drop the substitute, complete the application's operation, and close
// the handle if it was the last one outstanding on a closed socket.
func (op *lop) done(err winsock.WSAError, n uint32, _ *winsock.Overlapped, flags uint32) {
	l := op.l
	l.workerRuns.Add(1)
	op.sub = nil
	if op.from != nil && err == 0 {
		*op.from = op.subFrom
	}
	op.err, op.n, op.flags = err, n, flags
	l.completed.Add(1) // counted before the application can see the completion
	if op.clientCr != nil {
		if op.clientOv.SetResult(err, n, flags) {
			_ = l.up.QueueApc(op.clientTid, runClientRoutine, 0, op)
		}
	} else {
		_ = l.up.CompleteOverlappedRequest(op.ls.h, op.clientOv, err, n)
	}
	l.finish(op.ls)
}

func runClientRoutine(_ uintptr, data any) {
	op := data.(*lop)
	op.clientCr(op.err, op.n, op.clientOv, op.flags)
}

// finish ends one outstanding operation; the last one of a closed socket closes the
// handle (the deferred WPUCloseSocketHandle).
func (l *Layer) finish(ls *lsock) {
	ls.mu.Lock()
	ls.outstanding--
	last := ls.closing && ls.outstanding == 0
	ls.mu.Unlock()
	l.outstanding.Add(-1)
	if last {
		l.closeHandle(ls)
	}
}

func (l *Layer) recv(s winsock.Socket, bufs [][]byte, flags *uint32, ov *winsock.Overlapped, cr winsock.CompletionRoutine, tid *winsock.ThreadID) (uint32, winsock.WSAError) {
	return l.overlapped(Recv, s, ov, cr, tid, nil, func(low winsock.Socket, sub *winsock.Overlapped, c winsock.CompletionRoutine, t *winsock.ThreadID, _ *netip.AddrPort) (uint32, winsock.WSAError) {
		return l.lower.Recv(low, bufs, flags, sub, c, t)
	})
}

func (l *Layer) recvFrom(s winsock.Socket, bufs [][]byte, flags *uint32, from *netip.AddrPort, ov *winsock.Overlapped, cr winsock.CompletionRoutine, tid *winsock.ThreadID) (uint32, winsock.WSAError) {
	return l.overlapped(RecvFrom, s, ov, cr, tid, from, func(low winsock.Socket, sub *winsock.Overlapped, c winsock.CompletionRoutine, t *winsock.ThreadID, f *netip.AddrPort) (uint32, winsock.WSAError) {
		return l.lower.RecvFrom(low, bufs, flags, f, sub, c, t)
	})
}

func (l *Layer) send(s winsock.Socket, bufs [][]byte, flags uint32, ov *winsock.Overlapped, cr winsock.CompletionRoutine, tid *winsock.ThreadID) (uint32, winsock.WSAError) {
	return l.overlapped(Send, s, ov, cr, tid, nil, func(low winsock.Socket, sub *winsock.Overlapped, c winsock.CompletionRoutine, t *winsock.ThreadID, _ *netip.AddrPort) (uint32, winsock.WSAError) {
		return l.lower.Send(low, bufs, flags, sub, c, t)
	})
}

func (l *Layer) sendTo(s winsock.Socket, bufs [][]byte, flags uint32, to netip.AddrPort, ov *winsock.Overlapped, cr winsock.CompletionRoutine, tid *winsock.ThreadID) (uint32, winsock.WSAError) {
	return l.overlapped(SendTo, s, ov, cr, tid, nil, func(low winsock.Socket, sub *winsock.Overlapped, c winsock.CompletionRoutine, t *winsock.ThreadID, _ *netip.AddrPort) (uint32, winsock.WSAError) {
		return l.lower.SendTo(low, bufs, flags, to, sub, c, t)
	})
}
