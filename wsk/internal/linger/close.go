package linger

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// Close is one socket's close in progress. Done and Outcome are safe for concurrent
// use; everything else is the engine's.
type Close struct {
	e          *Engine
	s          *dispatch.Socket
	disconnect dispatch.DisconnectFunc // nil for a socket with no connection table
	receive    dispatch.ReceiveFunc
	counted    bool // holds a background slot (set by admit, under e.mu)

	// state is the close's progress, moved by CAS:
	//
	//	bitLocalFIN  the graceful Disconnect completed: our FIN is out
	//	bitPeerFIN   the watching Receive completed with 0 bytes: the peer's FIN arrived
	//	bitClosing   someone won the right to end it; reason says how
	//
	// bitClosing is set once; its winner stores reason first and then issues the
	// (abortive disconnect and) CloseSocket. Both FIN bits set, and the winner is Graceful.
	state  atomic.Uint32
	reason atomic.Uint32 // Outcome chosen by the winner of bitClosing
	final  atomic.Uint32 // Outcome, stored before done is closed

	watch [64]byte     // the watching Receive's buffer: any byte in it means late data
	wbuf  dispatch.Buf // describes watch

	tmu     sync.Mutex
	timer   *time.Timer // the FIN wait; nil when none or stopped
	poll    *time.Timer // checkFIN's next look
	stopped bool        // the close finished: no timer may start

	done chan struct{}
}

const (
	bitLocalFIN uint32 = 1 << iota
	bitPeerFIN
	bitClosing
)

func newClose(e *Engine, s *dispatch.Socket) *Close {
	c := &Close{e: e, s: s, done: make(chan struct{})}
	switch {
	case s.Connection() != nil:
		t := s.Connection()
		c.disconnect, c.receive = t.Disconnect, t.Receive
	case s.Stream() != nil:
		t := s.Stream()
		c.disconnect, c.receive = t.Disconnect, t.Receive
	}
	c.wbuf = dispatch.MakeBuf(c.watch[:])
	return c
}

// Done is closed when the close has finished: the socket's close IRP completed, so
// every IRP of the socket has completed and any reset has been sent.
func (c *Close) Done() <-chan struct{} { return c.done }

// Outcome is Pending until Done is closed, then how the close ended.
func (c *Close) Outcome() Outcome { return Outcome(c.final.Load()) }

// startGraceful arms the FIN timer and issues the graceful Disconnect and the watching
// Receive. Each completion routine frees its own IRP.
func (c *Close) startGraceful() {
	if c.disconnect == nil {
		c.closeNow(Plain)
		return
	}
	c.tmu.Lock()
	if !c.stopped {
		c.timer = time.AfterFunc(c.e.cfg.FINTimeout, func() { c.abort(ResetTimeout) })
	}
	c.tmu.Unlock()
	d := irp.Allocate(c.s.StackSize())
	d.SetCompletionRoutine(c.onDisconnect, nil, irp.InvokeAlways)
	_ = c.disconnect(c.s, nil, 0, d)
	r := irp.Allocate(c.s.StackSize())
	r.SetCompletionRoutine(c.onReceive, nil, irp.InvokeAlways)
	_ = c.receive(c.s, &c.wbuf, 0, r)
}

func (c *Close) onDisconnect(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
	st := i.IoStatus.Status
	i.Free()
	switch st {
	case irp.Success:
		c.setBit(bitLocalFIN)
	case irp.Cancelled, irp.InvalidHandle: // our own close got there first
	case irp.InvalidDeviceState:
		// The send side is shut already: the owner disconnected gracefully before
		// (Winsock's shutdown(SD_SEND)), or the socket never connected. Watch the send
		// queue: empty means the owner's FIN went out and was acknowledged.
		c.checkFIN()
	default:
		c.abort(ResetPeer)
	}
	return irp.MoreProcessingRequired
}

// checkFIN reads the send queue without blocking (the IOCTL completes inline) and
// records the local FIN once it is empty, or looks again after Config.PollInterval
// (the FIN wait's timer bounds the looking). A socket that was never connected closes
// as is.
func (c *Close) checkFIN() {
	out := make([]byte, 8)
	i := irp.Allocate(c.s.StackSize())
	i.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		st := i.IoStatus.Status
		i.Free()
		switch {
		case c.state.Load()&bitClosing != 0:
		case st == irp.NotSupported || (st == irp.Success && binary.LittleEndian.Uint64(out) == 0):
			c.setBit(bitLocalFIN)
		case st == irp.Success:
			c.tmu.Lock()
			if !c.stopped {
				c.poll = time.AfterFunc(c.e.cfg.PollInterval, c.checkFIN)
			}
			c.tmu.Unlock()
		case st == irp.InvalidDeviceState:
			c.closeNow(Plain) // never connected: nothing to linger over
		default:
			c.abort(ResetPeer)
		}
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	_ = c.s.Basic().ControlSocket(c.s, dispatch.Ioctl, sioQuerySendQueue, 0, nil, out, nil, i)
}

func (c *Close) onReceive(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
	st, n := i.IoStatus.Status, i.IoStatus.Information
	i.Free()
	switch {
	case st == irp.Success && n == 0:
		c.setBit(bitPeerFIN)
	case st == irp.Success:
		c.abort(ResetData) // data after the close: Linux and Windows reset
	case st == irp.Cancelled || st == irp.InvalidHandle: // our own close got there first
	case st == irp.InvalidDeviceState:
		c.closeNow(Plain)
	default:
		c.abort(ResetPeer)
	}
	return irp.MoreProcessingRequired
}

// setBit records one FIN; the one that completes the pair closes gracefully.
func (c *Close) setBit(b uint32) {
	for {
		old := c.state.Load()
		if c.state.CompareAndSwap(old, old|b) {
			if (old|b)&(bitLocalFIN|bitPeerFIN) == bitLocalFIN|bitPeerFIN {
				c.closeNow(Graceful)
			}
			return
		}
	}
}

// win sets bitClosing; only the first caller gets true, and it records why.
func (c *Close) win(why Outcome) bool {
	for {
		old := c.state.Load()
		if old&bitClosing != 0 {
			return false
		}
		if c.state.CompareAndSwap(old, old|bitClosing) {
			c.reason.Store(uint32(why))
			return true
		}
	}
}

// closeNow ends the close with CloseSocket alone (Graceful, Plain).
func (c *Close) closeNow(why Outcome) {
	if c.win(why) {
		c.issueClose()
	}
}

// abort ends the close with a reset: an abortive Disconnect (so the RST goes out even if
// both directions happened to be shut down), then CloseSocket from its completion.
func (c *Close) abort(why Outcome) {
	if !c.win(why) {
		return
	}
	if c.disconnect == nil {
		c.issueClose()
		return
	}
	d := irp.Allocate(c.s.StackSize())
	d.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		i.Free()
		c.issueClose()
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	_ = c.disconnect(c.s, nil, dispatch.FlagAbortive, d)
}

func (c *Close) issueClose() {
	i := irp.Allocate(c.s.StackSize())
	i.SetCompletionRoutine(c.onClosed, nil, irp.InvokeAlways)
	_ = c.s.Basic().CloseSocket(c.s, i)
}

// onClosed is the close IRP's routine: the single "finished" signal. WSK completed every
// earlier IRP of the socket before it, so nothing of this close is left but the timer.
func (c *Close) onClosed(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
	i.Free()
	c.tmu.Lock()
	c.stopped = true
	if c.timer != nil {
		c.timer.Stop() // a callback already running finds bitClosing set and returns
		c.timer = nil
	}
	if c.poll != nil {
		c.poll.Stop()
		c.poll = nil
	}
	c.tmu.Unlock()
	why := Outcome(c.reason.Load())
	c.final.Store(uint32(why))
	c.e.finished(c, why)
	close(c.done)
	return irp.MoreProcessingRequired
}
