package netconn

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
)

// Dialer is [net.Dialer]'s counterpart: its DialContext fits http.Transport.DialContext
// and grpc.WithContextDialer. The zero value dials on the default Provider with no
// timeout. Safe for concurrent use.
type Dialer struct {
	// Provider makes the sockets; nil is the default Provider.
	Provider *Provider
	// Timeout bounds the whole dial (resolution and connect); zero means none.
	Timeout time.Duration
	// Deadline is an absolute bound, as in net.Dialer; zero means none.
	Deadline time.Time
	// LocalAddr is the local address to bind (a *net.TCPAddr or *net.UDPAddr); nil
	// picks one.
	LocalAddr net.Addr
}

// Dial connects to address on network (net.Dial's signature).
func (d *Dialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

// DialContext connects to address on network before ctx ends. For TCP it tries each
// resolved address in turn with WskSocketConnect and returns a *TCPConn; for UDP a
// *UDPConn with the remote address fixed.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	p := d.Provider
	if p == nil {
		var err error
		if p, err = Default(); err != nil {
			return nil, opErr("dial", network, d.LocalAddr, nil, err)
		}
	}
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	if !d.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Deadline)
		defer cancel()
	}
	k, err := parseNetwork(network)
	var addrs []netip.AddrPort
	if err == nil {
		addrs, err = resolve(ctx, k, address, false)
	}
	if err != nil {
		return nil, opErr("dial", network, d.LocalAddr, nil, err)
	}
	var local netip.AddrPort
	if d.LocalAddr != nil {
		local, _ = addrPortOf(d.LocalAddr)
	}
	var last error
	for _, a := range addrs {
		var c net.Conn
		if k.udp {
			c, err = p.dialUDP(network, local, a)
		} else {
			c, err = p.dialTCP(ctx, network, local, a)
		}
		if err == nil {
			return c, nil
		}
		last = opErr("dial", network, d.LocalAddr, addrOf(k, a), err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

func addrOf(k netKind, a netip.AddrPort) net.Addr {
	if k.udp {
		return net.UDPAddrFromAddrPort(a)
	}
	return net.TCPAddrFromAddrPort(a)
}

func (p *Provider) dialTCP(ctx context.Context, network string, local, remote netip.AddrPort) (*TCPConn, error) {
	if p.stopped() {
		return nil, ErrShutdown
	}
	res := wsk.Call(ctx, 1, func(i *irp.IRP) irp.Status {
		return p.npi.Dispatch.SocketConnect(p.npi.Client, wsk.SockStream, wsk.IPProtoTCP, local, remote,
			0, nil, nil, i)
	})
	if res.Status != irp.Success {
		if err := ctx.Err(); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return nil, errTimeout{}
			}
			return nil, err
		}
		return nil, statusErr(res.Status, false, false)
	}
	s := res.Object.(*dispatch.Socket)
	var la netip.AddrPort
	wsk.Call(context.Background(), s.StackSize(), func(i *irp.IRP) irp.Status {
		return s.Connection().GetLocalAddress(s, &la, i)
	})
	return p.newConn(s, network, la, remote)
}

// errTimeout is a dial that ran out of time: it matches both os.ErrDeadlineExceeded
// and context.DeadlineExceeded, and Timeout() is true, as net's dial errors.
type errTimeout struct{}

func (errTimeout) Error() string   { return "i/o timeout" }
func (errTimeout) Timeout() bool   { return true }
func (errTimeout) Temporary() bool { return true }
func (errTimeout) Is(target error) bool {
	return target == context.DeadlineExceeded || target == errDeadline
}

// Dial is [net.Dial] on the default Provider.
func Dial(network, address string) (net.Conn, error) {
	var d Dialer
	return d.Dial(network, address)
}

// Listen is [net.Listen] on the default Provider.
func Listen(network, address string) (net.Listener, error) {
	p, err := Default()
	if err != nil {
		return nil, opErr("listen", network, nil, nil, err)
	}
	return p.Listen(network, address)
}

// ListenPacket is [net.ListenPacket] on the default Provider ("udp", "udp4", "udp6").
func ListenPacket(network, address string) (net.PacketConn, error) {
	p, err := Default()
	if err != nil {
		return nil, opErr("listen", network, nil, nil, err)
	}
	return p.ListenPacket(network, address)
}

// Dial is [net.Dial] on p.
func (p *Provider) Dial(network, address string) (net.Conn, error) {
	d := Dialer{Provider: p}
	return d.Dial(network, address)
}
