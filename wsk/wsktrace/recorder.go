package wsktrace

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
	"github.com/gowsk/gowsk/wsk/internal/observe"
)

// Recorder is the [wsk.Observer] that records IRP lifecycles and close steps (see the
// package doc). Make it with New; one Recorder may serve several registrations. All its
// methods are safe for concurrent use; they are called by the provider.
type Recorder struct {
	tr  tracer
	log *slog.Logger // nil: no slog records

	mu      sync.Mutex
	sockets map[*dispatch.Socket]*sockRec // sockets seen and not yet closed
	irps    map[*irp.IRP]*irpRec          // IRPs submitted and not yet completed
	nSock   uint64                        // socket numbers given so far
	nIRP    uint64                        // IRP numbers given so far
}

var (
	_ wsk.Observer   = (*Recorder)(nil)
	_ observe.Locked = (*Recorder)(nil) // the sealed under-lock hook: pending IRPs
)

// sockRec is one socket the recorder has seen: its number and its task. Immutable once
// made, but for closeIRP and closeEnd (guarded by Recorder.mu).
type sockRec struct {
	id       uint64
	ctx      context.Context // carries the socket's task
	end      func()          // ends the socket's task
	closeIRP *irpRec         // the close IRP, once WskCloseSocket was called
	closeEnd func()          // ends step 8 and the socket's task; nil before step 8 and after
}

// irpRec is one submission of an IRP: its number, its task and when the provider kept it
// pending or a cancel reached it (guarded by Recorder.mu), for the slog records written at
// its completion.
type irpRec struct {
	r      *Recorder
	id     uint64
	sock   *sockRec
	member dispatch.Member
	ctx    context.Context // carries the IRP's task
	end    func()          // ends the IRP's task
	logged bool            // the logger took Debug records when the IRP was submitted

	pendingAt, cancelAt time.Time // zero: did not happen, or not logged
}

// New returns a recorder that writes to runtime/trace (while a trace is being recorded)
// and, when log is not nil, to log at slog.LevelDebug.
func New(log *slog.Logger) *Recorder { return newRecorder(runtimeTracer{}, log) }

func newRecorder(tr tracer, log *slog.Logger) *Recorder {
	return &Recorder{tr: tr, log: log,
		sockets: make(map[*dispatch.Socket]*sockRec), irps: make(map[*irp.IRP]*irpRec)}
}

// taskNames are the IRP tasks' types, one per member ("WskReceive").
var taskNames = func() (n [dispatch.NumMembers]string) {
	for m := range dispatch.NumMembers {
		n[m] = "Wsk" + m.String()
	}
	return n
}()

// on reports whether anything would be recorded now.
func (r *Recorder) on() bool { return r.tr.enabled() || r.logging() }

// Call is the dispatch.Filter half: it records the submission of i on ws (or a call
// without an IRP) and returns the completion routine that records its completion.
// Nothing is recorded, and no routine set, while nothing is being recorded.
func (r *Recorder) Call(m dispatch.Member, ws *dispatch.Socket, i *irp.IRP) (irp.CompletionRoutine, any, irp.Invoke) {
	if m >= dispatch.NumMembers || !r.on() {
		return nil, nil, 0
	}
	if i != nil && i.CurrentLocation() <= 1 {
		// No location below for a routine: the layer refuses the IRP (the caller sized it
		// without Socket.StackSize), so there is no life to record.
		return nil, nil, 0
	}
	sr := r.socketFor(ws, true)
	if i == nil {
		r.tr.log(sr.ctx, "call", taskNames[m]+" (no IRP)")
		r.debug("call", sockAttr(sr), slog.String("call", taskNames[m]))
		return nil, nil, 0
	}
	logged := r.logging() // here, not under the provider's lock: Enabled is the handler's code
	r.mu.Lock()
	r.nIRP++
	rec := &irpRec{r: r, id: r.nIRP, sock: sr, member: m, logged: logged}
	rec.ctx, rec.end = r.tr.task(sr.ctx, taskNames[m])
	r.irps[i] = rec // a resubmitted IRP is a new submission: the old one has completed
	if m == dispatch.MemberCloseSocket {
		sr.closeIRP = rec
	}
	r.mu.Unlock()
	r.tr.log(rec.ctx, "irp", "submitted")
	r.debug("irp submitted", rec.attrs()...)
	return irpCompleted, rec, irp.InvokeAlways
}

// irpCompleted is the completion routine Call sets: it records the completion and lets
// the walk go on, carrying pending up as every routine that continues must.
func irpCompleted(_ *irp.Device, i *irp.IRP, ctx any) irp.Status {
	if rec, ok := ctx.(*irpRec); ok {
		rec.r.completed(rec, i)
	}
	if i.PendingReturned() {
		i.MarkPending()
	}
	return irp.ContinueCompletion
}

// completed records rec's completion and ends its task. It runs as a completion routine:
// it owns i for the call.
func (r *Recorder) completed(rec *irpRec, i *irp.IRP) {
	io, pend, cancel := i.IoStatus, i.PendingReturned(), i.Cancelled()
	r.mu.Lock()
	if r.irps[i] == rec {
		delete(r.irps, i)
	}
	pendingAt, cancelAt := rec.pendingAt, rec.cancelAt
	r.mu.Unlock()
	r.tr.log(rec.ctx, "irp", "completion routine: PendingReturned "+strconv.FormatBool(pend)+
		", Cancel "+strconv.FormatBool(cancel))
	r.tr.log(rec.ctx, "irp", "completed "+io.Status.String()+
		", Information "+strconv.FormatUint(uint64(io.Information), 10))
	rec.end()
	if r.logging() {
		if !pendingAt.IsZero() {
			r.debugAt(pendingAt, "irp pending", rec.attrs()...)
		}
		if !cancelAt.IsZero() {
			r.debugAt(cancelAt, "irp cancel", rec.attrs()...)
		}
		r.debug("irp completed", append(rec.attrs(),
			slog.String("status", io.Status.String()),
			slog.Uint64("information", uint64(io.Information)),
			slog.Bool("pending_returned", pend),
			slog.Bool("cancel", cancel))...)
	}
	if rec.member == dispatch.MemberCloseSocket {
		// The close IRP completes inside step 8, on the goroutine that runs it, and the
		// application's routine runs next and may return at once: end the step and the
		// socket now, so that the socket is over when the application hears of it.
		r.endClose(rec.sock)
	}
}

// Pending records that the provider keeps i pending. It runs with the socket's lock
// held: it only writes the trace event and notes the time for the slog record.
func (r *Recorder) Pending(ws *dispatch.Socket, i *irp.IRP, _ observe.Token) {
	if rec := r.note(i, func(rec *irpRec, now time.Time) { rec.pendingAt = now }); rec != nil {
		r.tr.log(rec.ctx, "irp", "pending")
	}
}

// Cancel records that a Cancel reached the provider's cancel routine for i, which still
// owns i. No provider lock is held.
func (r *Recorder) Cancel(ws *dispatch.Socket, i *irp.IRP) {
	if rec := r.note(i, func(rec *irpRec, now time.Time) { rec.cancelAt = now }); rec != nil {
		r.tr.log(rec.ctx, "irp", "cancel")
	}
}

// note finds i's submission and, when it is logged, lets set note the time on it. nil
// when i was submitted while nothing was being recorded. It runs under the provider's lock,
// so it asks the logger nothing (a Handler is application code).
func (r *Recorder) note(i *irp.IRP, set func(rec *irpRec, now time.Time)) *irpRec {
	r.mu.Lock()
	rec := r.irps[i]
	if rec != nil && rec.logged {
		set(rec, time.Now())
	}
	r.mu.Unlock()
	return rec
}

// CloseStep records a step of ws's close protocol on its task: a log for a step that
// marks a moment, a region for a span (whose end the provider calls). The end of step 8
// also ends the socket's task and forgets the socket.
func (r *Recorder) CloseStep(ws *dispatch.Socket, step wsk.CloseStep) (end func()) {
	sr := r.socketFor(ws, r.on())
	if sr == nil {
		return nil
	}
	if step == wsk.CloseDrained {
		// The guard marked the close IRP pending when WskCloseSocket was called; the close
		// protocol now holds it until step 8.
		r.mu.Lock()
		cl := sr.closeIRP
		r.mu.Unlock()
		if cl != nil {
			r.tr.log(cl.ctx, "irp", "pending")
			r.debug("irp pending", cl.attrs()...)
		}
	}
	r.debug("close step", sockAttr(sr), slog.String("step", step.String()))
	if !step.Span() {
		r.tr.log(sr.ctx, "close", step.String())
		return nil
	}
	endRegion := r.tr.region(sr.ctx, "close "+step.String())
	if step != wsk.CloseComplete {
		return endRegion
	}
	r.mu.Lock()
	sr.closeEnd = func() {
		endRegion()
		r.socketClosed(ws, sr)
	}
	r.mu.Unlock()
	// Without a close IRP (or one submitted while nothing was recorded) the provider's end
	// does it; otherwise the close IRP's completion did already.
	return func() { r.endClose(sr) }
}

// endClose ends step 8 and the socket's task, once: at the close IRP's completion or at
// the end of step 8, whichever comes first (both on the goroutine running step 8).
func (r *Recorder) endClose(sr *sockRec) {
	r.mu.Lock()
	end := sr.closeEnd
	sr.closeEnd = nil
	r.mu.Unlock()
	if end != nil {
		end()
	}
}

// socketFor returns ws's record; when there is none it makes one (and starts its task)
// if create is set, else returns nil.
func (r *Recorder) socketFor(ws *dispatch.Socket, create bool) *sockRec {
	r.mu.Lock()
	sr := r.sockets[ws]
	made := false
	if sr == nil && create {
		r.nSock++
		sr = &sockRec{id: r.nSock}
		sr.ctx, sr.end = r.tr.task(context.Background(), "socket")
		r.sockets[ws] = sr
		made = true
	}
	r.mu.Unlock()
	if made {
		what := "socket #" + strconv.FormatUint(sr.id, 10) + ", " + category(ws)
		r.tr.log(sr.ctx, "socket", what)
		r.debug("socket", sockAttr(sr), slog.String("category", category(ws)))
	}
	return sr
}

// socketClosed ends sr's task once ws's close IRP has completed.
func (r *Recorder) socketClosed(ws *dispatch.Socket, sr *sockRec) {
	r.mu.Lock()
	if r.sockets[ws] == sr {
		delete(r.sockets, ws)
	}
	r.mu.Unlock()
	r.tr.log(sr.ctx, "socket", "closed")
	sr.end()
	r.debug("socket closed", sockAttr(sr))
}

// category names ws's WSK_FLAG_*_SOCKET.
func category(ws *dispatch.Socket) string {
	switch ws.Category() {
	case dispatch.ListenSocket:
		return "listen"
	case dispatch.ConnectionSocket:
		return "connection"
	case dispatch.DatagramSocket:
		return "datagram"
	case dispatch.StreamSocket:
		return "stream"
	}
	return "basic"
}
