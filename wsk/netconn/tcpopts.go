package netconn

import (
	"encoding/binary"
	"net"
	"time"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
)

// setInt sets one integer option with WskControlSocket (an option takes no IRP and
// completes at once, so it may be called anywhere).
func setInt(s *dispatch.Socket, level, code uint32, v int) irp.Status {
	var in [4]byte
	binary.LittleEndian.PutUint32(in[:], uint32(int32(v)))
	return s.Basic().ControlSocket(s, dispatch.SetOption, code, level, in[:], nil, nil, nil)
}

// option sets an option for one of TCPConn's setters: net.ErrClosed after Close.
func (c *TCPConn) option(op string, level, code uint32, v int) error {
	if c.closed.Load() {
		return c.opErr(op, net.ErrClosed)
	}
	if st := setInt(c.s, level, code, v); st != irp.Success {
		return c.opErr(op, statusErr(st, false, false))
	}
	return nil
}

// SetNoDelay sets TCP_NODELAY (on by default, as in net).
func (c *TCPConn) SetNoDelay(noDelay bool) error {
	return c.option("set", wsk.IPProtoTCP, wsk.TCPNoDelay, b2i(noDelay))
}

// SetKeepAlive sets SO_KEEPALIVE.
func (c *TCPConn) SetKeepAlive(keepalive bool) error {
	return c.option("set", dispatch.SOLSocket, wsk.SOKeepAlive, b2i(keepalive))
}

// SetKeepAlivePeriod sets the idle time before the first probe and the interval
// between probes (as net does), rounded up to whole seconds.
func (c *TCPConn) SetKeepAlivePeriod(d time.Duration) error {
	secs := int((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	if err := c.option("set", wsk.IPProtoTCP, wsk.TCPKeepAlive, secs); err != nil {
		return err
	}
	return c.option("set", wsk.IPProtoTCP, wsk.TCPKeepIntvl, secs)
}

// SetReadBuffer sets SO_RCVBUF.
func (c *TCPConn) SetReadBuffer(bytes int) error {
	return c.option("set", dispatch.SOLSocket, wsk.SORcvBuf, bytes)
}

// SetWriteBuffer sets SO_SNDBUF.
func (c *TCPConn) SetWriteBuffer(bytes int) error {
	return c.option("set", dispatch.SOLSocket, wsk.SOSndBuf, bytes)
}

// SetLinger chooses what Close does (see close.go): sec < 0 (the default) a graceful
// close in the background; sec == 0 an abortive close (RST, unsent data discarded);
// sec > 0 Close waits up to sec seconds for a graceful close and resets the connection
// if it did not finish in time (Windows' linger, not Linux's: Linux would send no RST).
func (c *TCPConn) SetLinger(sec int) error {
	if c.closed.Load() {
		return c.opErr("set", net.ErrClosed)
	}
	if sec < 0 {
		sec = -1
	}
	c.linger.Store(int32(min(sec, 1<<15)))
	return nil
}

// CloseWrite shuts the sending side down (a graceful WskDisconnect): the peer reads
// every byte written, then io.EOF; reads go on. It waits for the Writes before it and
// honours the write deadline. Writes after it fail with EPIPE.
func (c *TCPConn) CloseWrite() error {
	if !c.ops.Acquire() {
		return c.opErr("close", net.ErrClosed)
	}
	defer c.ops.Release()
	w := &c.wr
	w.op.Lock()
	defer w.op.Unlock()
	if c.wrShut.Load() {
		return nil
	}
	i := w.prepare()
	if closed, timedOut := w.begin(); closed || timedOut {
		return c.opErr("close", statusErr(irp.Cancelled, timedOut, closed))
	}
	res, timedOut, closed := w.wait(c.cd.Disconnect(c.s, nil, 0, i))
	if res.Status != irp.Success {
		return c.opErr("close", statusErr(res.Status, timedOut, closed))
	}
	c.wrShut.Store(true)
	return nil
}

// CloseRead stops reading: the pending and every later Read return io.EOF. Nothing is
// sent (as Linux's SHUT_RD); input that arrives and stays unread makes Close reset the
// connection.
func (c *TCPConn) CloseRead() error {
	if c.closed.Load() {
		return c.opErr("close", net.ErrClosed)
	}
	c.rdShut.Store(true)
	c.rd.interrupt()
	return nil
}

// interrupt cancels the pending request without a deadline or a close.
func (d *side) interrupt() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pending {
		d.i.Cancel()
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
