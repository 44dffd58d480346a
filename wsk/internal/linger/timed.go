package linger

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
)

// WaitFunc waits until done is closed or d has passed, whichever is first; it may
// return earlier (Timed checks again and calls it again). The Winsock layer's alertable
// wait runs queued APCs in it; nil means a plain timed wait.
type WaitFunc func(done <-chan struct{}, d time.Duration)

func plainWait(done <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	select {
	case <-done:
	case <-t.C:
	}
	t.Stop()
}

// Timed is the linger {1,n} close of a connected socket, with n = linger. It blocks the
// calling goroutine (never call it from a completion routine or callback) until the
// data, FIN included, is delivered or linger has passed, and returns the Close and
// whether the data was delivered. Delivered: the FIN wait goes on in the background as
// for Background. Not delivered: the connection has been reset (ResetLinger) and the
// close has finished when Timed returns. A full background table or a Shutdown resets
// at once, as for Background (delivered false). The wait runs through wait (nil: a
// plain wait), polling the send queue every Config.PollInterval.
func (e *Engine) Timed(s *dispatch.Socket, linger time.Duration,
	wait WaitFunc) (c *Close, delivered bool) {
	if wait == nil {
		wait = plainWait
	}
	deadline := time.Now().Add(linger)
	c = e.Background(s)
	for {
		select {
		case <-c.done:
			return c, c.Outcome() == Graceful
		default:
		}
		if c.state.Load()&bitLocalFIN != 0 {
			// Without the send-queue IOCTL (an older wsk: NOT_SUPPORTED) the best
			// knowledge is "the kernel has every byte and the FIN".
			if n, st := Unsent(s); (st == irp.Success && n == 0) || st == irp.NotSupported {
				e.delivered.Add(1)
				return c, true
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		wait(c.done, min(left, e.cfg.PollInterval))
	}
	c.abort(ResetLinger)
	for {
		select {
		case <-c.done:
			return c, c.Outcome() == Graceful
		default:
			wait(c.done, e.cfg.PollInterval) // the close never waits on the network
		}
	}
}

// sioQuerySendQueue is wsk.SIOQuerySendQueue, spelled out so that this package builds
// against a wsk without it (the IOCTL then answers STATUS_NOT_SUPPORTED).
const sioQuerySendQueue uint32 = 0x40000000 | 0x18000000 | 0x0001

// Unsent returns the send bytes of s not yet acknowledged by the peer (the provider's
// unwritten sends plus the kernel's send queue; after a graceful disconnect the FIN
// counts until acknowledged): the IOCTL wsk.SIOQuerySendQueue. It blocks briefly (one control
// call); never call it from a completion routine. A failing status (the socket is not
// connected, closing, or reset) comes back as is, with 0.
func Unsent(s *dispatch.Socket) (int, irp.Status) {
	var out [8]byte
	var n int
	io := wsk.Call(context.Background(), s.StackSize(), func(i *irp.IRP) irp.Status {
		return s.Basic().ControlSocket(s, dispatch.Ioctl, sioQuerySendQueue, 0, nil, out[:], &n, i)
	})
	if io.Status != irp.Success {
		return 0, io.Status
	}
	return int(binary.LittleEndian.Uint64(out[:])), irp.Success
}
