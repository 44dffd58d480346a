//go:build unix || windows

package wsk

import (
	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/internal/sock"
)

// closeSocket is WskCloseSocket as the provider sees it: the table member the guard calls
// once the socket is drained of calls. Its IRP is already entered and marked pending by
// the guard, which returns irp.Pending to the application whatever this returns. It is
// marked pending again here: under a layer (WithObserver) the provider's stack location
// is not the guard's, and the layer's routine must see PendingReturned.
func closeSocket(ws *dispatch.Socket, i *irp.IRP) irp.Status {
	s := sockOf(ws)
	if s == nil {
		return failIRP(i, irp.InvalidHandle)
	}
	i.MarkPending()
	s.closeProtocol(i)
	return irp.Pending
}

// closeOffered closes, on the provider's own initiative, a socket the application has
// already seen: WskAcceptEvent was handed the socket and refused it (or panicked). The
// close goes through the guard's CloseSocket, as an application close does, so the
// *dispatch.Socket is marked closed. A call the application makes later through the
// pointer it kept, a second CloseSocket included, is then refused with
// STATUS_INVALID_HANDLE. Without this it would reach a record whose descriptor is
// already closed, and whose number may belong to another socket by then: a second
// close would close that other socket's descriptor and release the registration
// reference twice. The internal close IRP frees itself once it completes.
func (s *socket) closeOffered() {
	i := irp.Allocate(s.ws.StackSize())
	i.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		i.Free()
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	_ = s.ws.Basic().CloseSocket(&s.ws, i)
}

// closeProtocol is the close protocol of SPEC.md §3.1, in order. It never blocks: each
// wait is a continuation that runs on whichever goroutine drops the last reference (a
// refcount WaitFunc) or on the loop once its handler returned, so close may be called from
// the socket's own completion routine or callback (the guard already made that call
// return first). i is the close IRP, or nil when the provider destroys a socket it never
// handed out (a failed WskSocketConnect). The continuations are those of a recycled
// closeRun (socket_close_run.go): a close makes no closure.
func (s *socket) closeProtocol(i *irp.IRP) {
	// 1. Begin the rundown, 2. refuse new calls, 3. wait for the calls in flight: done by
	//    dispatch's guard before it called us (no call of this socket is running now, and
	//    every later one fails with STATUS_INVALID_HANDLE without reaching us).
	//
	// 4. Start no new callbacks and wait for the running ones to return.
	s.closeStep(CloseDrained)
	s.closeStep(CloseCallbacks)
	r := newCloseRun(s, i)
	s.callbacks.WaitFunc(r.afterCallbacks)
}

// cancelStep is step 5, once no callback runs.
func (r *closeRun) cancelStep() {
	s := r.s
	end := s.closeStep(CloseCancel)
	// 5. Cancel every pending IRP and complete it with STATUS_CANCELLED, Information 0
	//    (requests that already finished keep their status).
	outp := getOut()
	out := *outp
	s.mu.Lock()
	s.state |= stClosing
	s.retainedAtCloseLocked()   // invariant 26 (conn_indication.go)
	r.held = s.dropHeldLocked() // unread input: step 6 resets (conn_events.go)
	for !s.recvQ.empty() {
		s.finishLocked(s.recvQ.head(), irp.Cancelled, 0, &out)
	}
	for !s.sendQ.empty() {
		s.finishLocked(s.sendQ.head(), irp.Cancelled, 0, &out)
	}
	if s.connectOpLocked() != nil {
		s.finishLocked(s.connectOpLocked(), irp.Cancelled, 0, &out)
	}
	s.mu.Unlock()
	s.completeAtClose(out)
	putOut(outp, out)
	if s.listenSide() != nil {
		s.listenSide().dropHeld(s) // connections a listener holds but never handed out: reset (listen.go)
	}
	end()
	//    ...and wait until every IRP admitted earlier has completed (completions in
	//    progress on the loop or in a cancel routine included).
	s.inflight.WaitFunc(r.afterInflight)
}

// resetStep is step 6, once every IRP admitted before step 5 has completed.
func (r *closeRun) resetStep() {
	s := r.s
	// 6. Reset the connection unless it is disconnected in both directions. A connection
	//    the kernel already finished (both FINs acknowledged while the peer's was never
	//    read, or a reset no call met) has nothing left to reset: no RST goes out, so none
	//    is counted in Stats.ResetsSent. The kernel may have finished it before the loop
	//    saw the edge that says so: only the probe (sock.TCPFinished, one system call) knows.
	s.mu.Lock()
	st := s.state
	s.mu.Unlock()
	//    Held bytes (read from the kernel, never taken) are unread input, exactly like
	//    bytes still in the kernel: they make the close abortive.
	if st.has(stConnected) && !st.has(stAborted) &&
		(r.held > 0 || !st.has(stLocalGraceful|stRemoteGraceful)) && !sock.TCPFinished(s.fd) {
		s.closeStep(CloseReset)
		sock.SetLingerZero(s.fd)
		s.reg.ctr.resetsSent.Add(1)
	} else {
		s.closeStep(CloseNoReset)
	}
	// 7. Leave the engine and close the descriptor once no handler of this descriptor is
	//    running (the number cannot be reused under one): at once, here, when none is
	//    (the common case, no hand-off to the loop), else on the loop after it returned.
	//    UnregisterCloseFunc skips EPOLL_CTL_DEL: the provider never duplicates a
	//    descriptor, so closing it leaves the epoll set. A Readable or Writable posted to
	//    the loop may still run afterwards: it finds stClosing and empty queues and
	//    touches no descriptor.
	_ = s.efd.UnregisterCloseFunc(r.afterEngine)
}

// descriptorStep is steps 7 and 8, once no handler of the descriptor runs. The run is
// given back first: nothing of it is needed any more.
func (r *closeRun) descriptorStep() {
	s, i := r.s, r.i
	r.recycle()
	end := s.closeStep(CloseDescriptor)
	_ = sock.Close(s.fd)
	end()
	// 8. Complete the close IRP last: the single "everything for this socket is
	//    finished" signal.
	defer s.closeStep(CloseComplete)() // ends after the close IRP's completion
	s.reg.socketClosed()
	// Deferred: a panicking close routine must not keep Deregister waiting.
	defer s.reg.rd.Release()
	if i != nil {
		i.Complete(irp.Success, 0)
	}
}

// completeAtClose is complete for the requests step 5 cancelled. A completion routine that
// panics there must not stop the close: completeOne still completes the requests after it
// and gives back its inflight reference, and the panic stops here, counted
// (Stats.CallbackPanics) and logged, instead of unwinding through the close continuations
// (and through the Release or WaitFunc that ran them on some other caller), which would
// leave the close IRP pending and Deregister waiting for ever. The socket is closing, so
// there is nothing left to abort. In verifier mode a bug check goes on: it is meant to stop
// the program.
func (s *socket) completeAtClose(out []*op) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if irp.IsBugCheck(v) {
			panic(v)
		}
		s.reg.ctr.callbackPanics.Add(1)
		s.reg.log.Error("wsk: completion routine panicked during close; the close goes on", "panic", v)
	}()
	s.complete(out)
}
