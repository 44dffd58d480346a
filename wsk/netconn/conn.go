package netconn

import (
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/refcount"
	"github.com/gowsk/gowsk/wsk"
)

// TCPConn is a [net.Conn] on a WSK connection socket, with the methods of
// [*net.TCPConn] that servers use. It is what [Dial], [Dialer.DialContext] and
// [Listener.Accept] return for TCP.
//
// # Concurrency
//
// Every method is safe for concurrent use. One Read and one Write may run at once;
// concurrent Reads (or Writes) run one after the other, never interleaved. Each Read is
// one WskReceive and each Write one WskSend (repeated only after a deadline cut a send
// short), on an IRP the direction reuses: no allocation per call.
//
// # Close
//
// Close makes a pending Read and Write return at once with an error matching
// net.ErrClosed, then closes in the background: see close.go for the protocol
// (graceful by default, SetLinger(0) abortive, SetLinger(n > 0) waits up to n seconds).
// Connections are graceful the way net's are: the peer reads everything written, then
// io.EOF, unless input was left unread (then, as on Linux, a reset).
type TCPConn struct {
	p       *Provider
	s       *dispatch.Socket
	cd      *dispatch.ConnectionDispatch
	network string
	laddr   *net.TCPAddr
	raddr   *net.TCPAddr

	rd, wr side
	ops    refcount.Rundown // held by every Read, Write and option call; Close runs it down

	closed atomic.Bool
	rdShut atomic.Bool
	wrShut atomic.Bool
	linger atomic.Int32 // -1: default (graceful, background); 0: abortive; n: wait up to n s
}

func (p *Provider) newConn(s *dispatch.Socket, network string, local, remote netip.AddrPort) (*TCPConn, error) {
	c := &TCPConn{p: p, s: s, cd: s.Connection(), network: network,
		laddr: net.TCPAddrFromAddrPort(unmap(local)), raddr: net.TCPAddrFromAddrPort(unmap(remote))}
	c.linger.Store(-1)
	c.rd.init(s.StackSize())
	c.wr.init(s.StackSize())
	// Go's net sets TCP_NODELAY on every connection; a cancelled partial send must keep
	// the stream (a deadline may cut a Write short: it reports the bytes sent).
	setInt(s, dispatch.SOLSocket, wsk.SOCancelKeepsSent, 1)
	setInt(s, wsk.IPProtoTCP, wsk.TCPNoDelay, 1)
	p.ctr.connsOpened.Add(1)
	if !p.track(s, c.abort) {
		c.p.linger.Hard(s)
		c.rd.free()
		c.wr.free()
		return nil, ErrShutdown
	}
	return c, nil
}

func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

func (c *TCPConn) opErr(op string, err error) error {
	return opErr(op, c.network, c.laddr, c.raddr, err)
}

// Read reads from the connection (net.Conn). At the peer's graceful disconnect it returns
// 0, io.EOF (bare); a reset matches syscall.ECONNRESET; after Close net.ErrClosed; past
// the read deadline os.ErrDeadlineExceeded.
func (c *TCPConn) Read(b []byte) (int, error) {
	if !c.ops.Acquire() {
		return 0, c.opErr("read", net.ErrClosed)
	}
	defer c.ops.Release()
	r := &c.rd
	r.op.Lock()
	defer r.op.Unlock()
	if c.rdShut.Load() {
		return 0, io.EOF
	}
	if len(b) == 0 {
		return 0, nil
	}
	i := r.prepare()
	if closed, timedOut := r.begin(); closed || timedOut {
		return 0, c.opErr("read", statusErr(irp.Cancelled, timedOut, closed))
	}
	r.buf = dispatch.MakeBuf(b)
	res, timedOut, closed := r.wait(c.cd.Receive(c.s, &r.buf, 0, i))
	if res.Status == irp.Success {
		if res.Information == 0 {
			return 0, io.EOF
		}
		return int(res.Information), nil
	}
	if res.Status == irp.Cancelled && c.rdShut.Load() && !closed {
		return 0, io.EOF // CloseRead cut it short
	}
	return 0, c.opErr("read", statusErr(res.Status, timedOut, closed))
}

// Write writes b (net.Conn): it returns once every byte is in the kernel, or with the
// count written so far and the error (a deadline, Close, a reset).
func (c *TCPConn) Write(b []byte) (int, error) {
	if !c.ops.Acquire() {
		return 0, c.opErr("write", net.ErrClosed)
	}
	defer c.ops.Release()
	w := &c.wr
	w.op.Lock()
	defer w.op.Unlock()
	if c.wrShut.Load() {
		return 0, c.opErr("write", syscall.EPIPE)
	}
	n := 0
	for n < len(b) {
		i := w.prepare()
		if closed, timedOut := w.begin(); closed || timedOut {
			return n, c.opErr("write", statusErr(irp.Cancelled, timedOut, closed))
		}
		w.buf = dispatch.MakeBuf(b[n:])
		res, timedOut, closed := w.wait(c.cd.Send(c.s, &w.buf, 0, i))
		n += int(res.Information)
		if res.Status != irp.Success {
			return n, c.opErr("write", statusErr(res.Status, timedOut, closed))
		}
	}
	return n, nil
}

// LocalAddr is the local address, a *net.TCPAddr.
func (c *TCPConn) LocalAddr() net.Addr { return c.laddr }

// RemoteAddr is the peer's address, a *net.TCPAddr.
func (c *TCPConn) RemoteAddr() net.Addr { return c.raddr }

// SetDeadline sets the read and write deadlines (net.Conn): they apply to pending calls
// too, a time in the past fails pending and future calls at once, the zero time clears.
func (c *TCPConn) SetDeadline(t time.Time) error {
	if c.closed.Load() {
		return c.opErr("set", net.ErrClosed)
	}
	c.rd.setDeadline(t)
	c.wr.setDeadline(t)
	return nil
}

// SetReadDeadline sets the read deadline (see SetDeadline).
func (c *TCPConn) SetReadDeadline(t time.Time) error {
	if c.closed.Load() {
		return c.opErr("set", net.ErrClosed)
	}
	c.rd.setDeadline(t)
	return nil
}

// SetWriteDeadline sets the write deadline (see SetDeadline).
func (c *TCPConn) SetWriteDeadline(t time.Time) error {
	if c.closed.Load() {
		return c.opErr("set", net.ErrClosed)
	}
	c.wr.setDeadline(t)
	return nil
}

// Socket is the underlying WSK socket, for calls the adapter does not wrap
// (ControlSocket, the events). Closing it behind the adapter's back is a misuse: close
// the TCPConn.
func (c *TCPConn) Socket() *dispatch.Socket { return c.s }
