package netconn

import (
	"encoding/binary"
	"net"
	"sync"
	"time"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// Close closes the connection (net.Conn); a second Close returns an error matching
// net.ErrClosed. WSK's own close (WskCloseSocket) is abortive unless the
// connection is disconnected in both directions, while Go's net.Conn.Close is graceful
// and finishes in the background: the peer reads everything that was written, then EOF.
// The adapter gets net's behaviour from the linger engine (wsk/internal/linger), which
// it shares with the Winsock layer. In this order:
//
//  1. Close marks the connection closed: new calls fail with net.ErrClosed, the pending
//     Read and Write are cancelled and return at once with net.ErrClosed;
//  2. once no call is in flight (the conn's rundown: refcount.WaitFunc, so Close never
//     waits for the user's goroutines by default), the direction IRPs are idle and are
//     freed, and the socket is handed to the engine, which owns it from then on:
//  3. by SetLinger: sec < 0 (the default) Background: a graceful WskDisconnect (our FIN
//     after every byte written), the socket kept until the peer's FIN, then a clean
//     WskCloseSocket; input left unread (checked first: then a reset at once, no FIN)
//     or arriving later, or no FIN within
//     Options.CloseTimeout, resets instead, as Linux does; at most Options.MaxClosing
//     at once (beyond, a reset). sec == 0 Hard: an abortive disconnect (RST) and
//     close. sec > 0 Timed: Close itself waits (after the calls in flight returned) up
//     to sec seconds for the data and the FIN to be acknowledged, then goes on as
//     Background; not delivered in time, the connection is reset (Windows' linger).
//
// Stats.Linger counts the closes in progress and how each one ended.
func (c *TCPConn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return c.opErr("close", net.ErrClosed)
	}
	c.rd.close()
	c.wr.close()
	lin := c.linger.Load()
	if lin <= 0 {
		c.ops.WaitFunc(func() { c.handOver(lin) })
		return nil
	}
	var wg sync.WaitGroup
	wg.Add(1)
	c.ops.WaitFunc(wg.Done)
	wg.Wait() // the calls in flight were cancelled: prompt
	c.handOver(lin)
	return nil
}

// handOver is step 2: no call of the conn is in flight, so nothing uses its IRPs. It
// blocks only for SetLinger(n > 0), and then runs on Close's goroutine.
func (c *TCPConn) handOver(lin int32) {
	if lin != 0 && c.unread() {
		lin = 0 // as Linux: input never read makes the close a reset, at once (no FIN first)
	}
	c.rd.free()
	c.wr.free()
	c.p.untrack(c.s)
	c.p.ctr.connsClosed.Add(1)
	e := c.p.linger
	switch {
	case lin == 0:
		e.Hard(c.s)
	case lin > 0:
		e.Timed(c.s, time.Duration(lin)*time.Second, nil)
	default:
		e.Background(c.s)
	}
}

// unread reports whether received bytes wait that the application never read
// (SIO_WSK_QUERY_RECEIVE_BACKLOG, on the idle read IRP).
func (c *TCPConn) unread() bool {
	i := c.rd.prepare()
	var out [8]byte
	var n int
	st := c.s.Basic().ControlSocket(c.s, dispatch.Ioctl, dispatch.SIOWskQueryReceiveBacklog, 0, nil, out[:], &n, i)
	if st == irp.Pending {
		<-c.rd.done // never today: the IOCTL completes at once
	}
	return c.rd.i.IoStatus.Status == irp.Success && n == 8 && binary.LittleEndian.Uint64(out[:]) > 0
}

// abort is the provider's Shutdown for a conn still open: an abortive close.
func (c *TCPConn) abort() {
	c.linger.Store(0)
	_ = c.Close()
}
