package netconn

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/refcount"
	"github.com/gowsk/gowsk/wsk"
)

// UDPConn is a [net.PacketConn] (and, when dialled, a [net.Conn]) on a WSK datagram
// socket: each ReadFrom is one WskReceiveFrom, each WriteTo one WskSendTo, on an IRP the
// direction reuses. Deadlines, Close and the errors behave as for [TCPConn]. Every
// method is safe for concurrent use; concurrent reads (or writes) run one at a time.
type UDPConn struct {
	p       *Provider
	s       *dispatch.Socket
	dt      *dispatch.DatagramDispatch
	network string
	laddr   *net.UDPAddr
	raddr   *net.UDPAddr // dialled: the fixed remote address (SIO_WSK_SET_REMOTE_ADDRESS)

	rd, wr side
	ops    refcount.Rundown
	closed atomic.Bool
	from   netip.AddrPort // the sender of the ReadFrom in progress
	to     netip.AddrPort // the destination of the WriteTo in progress
}

// ListenPacket is [net.ListenPacket] on p.
func (p *Provider) ListenPacket(network, address string) (net.PacketConn, error) {
	k, addrs, err := resolveListen(network, address, true)
	if err != nil {
		return nil, err
	}
	c, err := p.newUDP(network, addrs[0], netip.AddrPort{})
	if err != nil && addrs[0].Addr().IsUnspecified() && addrs[0].Addr().Is6() && !k.only6 {
		c, err = p.newUDP(network, netip.AddrPortFrom(netip.IPv4Unspecified(), addrs[0].Port()), netip.AddrPort{})
	}
	if err != nil {
		return nil, opErr("listen", network, nil, nil, err)
	}
	return c, nil
}

func (p *Provider) dialUDP(network string, local, remote netip.AddrPort) (*UDPConn, error) {
	if !local.IsValid() {
		if remote.Addr().Is4() {
			local = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
		} else {
			local = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
		}
	}
	return p.newUDP(network, local, remote)
}

// newUDP makes a datagram socket bound to local and, if remote is valid, fixed to it.
func (p *Provider) newUDP(network string, local, remote netip.AddrPort) (*UDPConn, error) {
	if p.stopped() {
		return nil, ErrShutdown
	}
	s, err := p.socket(family(local.Addr()), wsk.SockDgram, wsk.IPProtoUDP, dispatch.DatagramSocket)
	if err != nil {
		return nil, err
	}
	dt := s.Datagram()
	var fix func() irp.Status
	if remote.IsValid() {
		fix = func() irp.Status {
			return s.Basic().ControlSocket(s, dispatch.Ioctl, dispatch.SIOWskSetRemoteAddress, 0,
				wsk.SockaddrBytes(remote), nil, nil, nil)
		}
	}
	bound, st := bindLocal(s, dt.Bind, dt.GetLocalAddress, local, fix)
	if st != irp.Success {
		closeSync(s)
		return nil, statusErr(st, false, false)
	}
	c := &UDPConn{p: p, s: s, dt: dt, network: network, laddr: net.UDPAddrFromAddrPort(unmap(bound))}
	if remote.IsValid() {
		c.raddr = net.UDPAddrFromAddrPort(remote)
	}
	c.rd.init(s.StackSize())
	c.wr.init(s.StackSize())
	if !p.track(s, func() { _ = c.Close() }) {
		closeSync(s)
		c.rd.free()
		c.wr.free()
		return nil, ErrShutdown
	}
	return c, nil
}

func (c *UDPConn) opErr(op string, addr net.Addr, err error) error {
	if addr == nil && c.raddr != nil {
		addr = c.raddr
	}
	return opErr(op, c.network, c.laddr, addr, err)
}

// ReadFrom reads one datagram into b (net.PacketConn); the rest of a longer one is lost.
func (c *UDPConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.readFrom(b)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(unmap(from)), nil
}

// Read reads one datagram from the dialled peer (net.Conn).
func (c *UDPConn) Read(b []byte) (int, error) {
	n, _, err := c.readFrom(b)
	return n, err
}

func (c *UDPConn) readFrom(b []byte) (int, netip.AddrPort, error) {
	if !c.ops.Acquire() {
		return 0, netip.AddrPort{}, c.opErr("read", nil, net.ErrClosed)
	}
	defer c.ops.Release()
	r := &c.rd
	r.op.Lock()
	defer r.op.Unlock()
	i := r.prepare()
	if closed, timedOut := r.begin(); closed || timedOut {
		return 0, netip.AddrPort{}, c.opErr("read", nil, statusErr(irp.Cancelled, timedOut, closed))
	}
	r.buf = dispatch.MakeBuf(b)
	res, timedOut, closed := r.wait(c.dt.ReceiveFrom(c.s, &r.buf, 0, &c.from, nil, nil, nil, i))
	if res.Status != irp.Success {
		return 0, netip.AddrPort{}, c.opErr("read", nil, statusErr(res.Status, timedOut, closed))
	}
	return int(res.Information), c.from, nil
}

// WriteTo sends b as one datagram to addr, a *net.UDPAddr (net.PacketConn).
func (c *UDPConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	a, ok := addrPortOf(addr)
	if !ok || !a.IsValid() {
		return 0, c.opErr("write", addr, net.InvalidAddrError("not a UDP address"))
	}
	return c.write(b, addr, &a)
}

// Write sends b as one datagram to the dialled peer (net.Conn).
func (c *UDPConn) Write(b []byte) (int, error) { return c.write(b, nil, nil) }

func (c *UDPConn) write(b []byte, addr net.Addr, to *netip.AddrPort) (int, error) {
	if !c.ops.Acquire() {
		return 0, c.opErr("write", addr, net.ErrClosed)
	}
	defer c.ops.Release()
	w := &c.wr
	w.op.Lock()
	defer w.op.Unlock()
	i := w.prepare()
	if closed, timedOut := w.begin(); closed || timedOut {
		return 0, c.opErr("write", addr, statusErr(irp.Cancelled, timedOut, closed))
	}
	w.buf = dispatch.MakeBuf(b)
	var remote *netip.AddrPort
	if to != nil {
		c.to = *to
		remote = &c.to
	}
	res, timedOut, closed := w.wait(c.dt.SendTo(c.s, &w.buf, 0, remote, nil, i))
	if res.Status != irp.Success {
		return 0, c.opErr("write", addr, statusErr(res.Status, timedOut, closed))
	}
	return int(res.Information), nil
}

// Close closes the socket: pending reads and writes return net.ErrClosed at once. It
// waits for the close IRP. A second Close returns net.ErrClosed.
func (c *UDPConn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return c.opErr("close", nil, net.ErrClosed)
	}
	c.rd.close()
	c.wr.close()
	var wg sync.WaitGroup
	wg.Add(1)
	c.ops.WaitFunc(wg.Done)
	wg.Wait()
	closeSync(c.s)
	c.rd.free()
	c.wr.free()
	c.p.untrack(c.s)
	return nil
}

// LocalAddr is the bound address, a *net.UDPAddr.
func (c *UDPConn) LocalAddr() net.Addr { return c.laddr }

// RemoteAddr is the dialled peer, a *net.UDPAddr, or nil for a listening conn.
func (c *UDPConn) RemoteAddr() net.Addr {
	if c.raddr == nil {
		return nil
	}
	return c.raddr
}

// SetDeadline sets the read and write deadlines (see TCPConn.SetDeadline).
func (c *UDPConn) SetDeadline(t time.Time) error {
	if c.closed.Load() {
		return c.opErr("set", nil, net.ErrClosed)
	}
	c.rd.setDeadline(t)
	c.wr.setDeadline(t)
	return nil
}

// SetReadDeadline sets the read deadline.
func (c *UDPConn) SetReadDeadline(t time.Time) error {
	if c.closed.Load() {
		return c.opErr("set", nil, net.ErrClosed)
	}
	c.rd.setDeadline(t)
	return nil
}

// SetWriteDeadline sets the write deadline.
func (c *UDPConn) SetWriteDeadline(t time.Time) error {
	if c.closed.Load() {
		return c.opErr("set", nil, net.ErrClosed)
	}
	c.wr.setDeadline(t)
	return nil
}

// Socket is the underlying WSK datagram socket.
func (c *UDPConn) Socket() *dispatch.Socket { return c.s }
