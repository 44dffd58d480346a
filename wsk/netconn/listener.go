package netconn

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/refcount"
	"github.com/gowsk/gowsk/wsk"
)

// Listener is a [net.Listener] on a WSK listen socket: each Accept is one WskAccept
// IRP. Its methods are safe for concurrent use; concurrent Accepts run one after the
// other.
//
// Accept's errors are the ones net/http's and gRPC's accept loops expect: net.ErrClosed
// after Close (they stop); for a connection reset or aborted before it was taken, and
// when out of descriptors (EMFILE), a *net.OpError whose Temporary() is true (they back
// off and retry).
type Listener struct {
	p       *Provider
	s       *dispatch.Socket
	lt      *dispatch.ListenDispatch
	network string
	addr    *net.TCPAddr

	ops    refcount.Rundown // held by every Accept; Close runs it down
	closed atomic.Bool
	acc    side // the Accept IRP and its lock (no deadline: net.Listener has none)

	local, remote netip.AddrPort // what the Accept in progress is given
}

// Listen is [net.Listen] on p, for "tcp", "tcp4" and "tcp6".
func (p *Provider) Listen(network, address string) (net.Listener, error) {
	return p.ListenTCP(network, address)
}

// ListenTCP is Listen returning the concrete type.
func (p *Provider) ListenTCP(network, address string) (*Listener, error) {
	k, addrs, err := resolveListen(network, address, false)
	if err != nil {
		return nil, err
	}
	var last error
	for _, a := range addrs {
		l, err := p.listenOn(network, a)
		if err == nil {
			return l, nil
		}
		last = err
		if a.Addr().IsUnspecified() && a.Addr().Is6() && !k.only6 {
			// No IPv6 here: the IPv4 wildcard.
			if l, err := p.listenOn(network, netip.AddrPortFrom(netip.IPv4Unspecified(), a.Port())); err == nil {
				return l, nil
			}
		}
	}
	return nil, opErr("listen", network, nil, nil, last)
}

func (p *Provider) listenOn(network string, a netip.AddrPort) (*Listener, error) {
	if p.stopped() {
		return nil, ErrShutdown
	}
	s, err := p.socket(family(a.Addr()), wsk.SockStream, wsk.IPProtoTCP, dispatch.ListenSocket)
	if err != nil {
		return nil, err
	}
	lt := s.Listen()
	bound, st := bindLocal(s, lt.Bind, lt.GetLocalAddress, a, nil)
	if st != irp.Success {
		closeSync(s)
		return nil, statusErr(st, false, false)
	}
	l := &Listener{p: p, s: s, lt: lt, network: network, addr: net.TCPAddrFromAddrPort(unmap(bound))}
	l.acc.init(s.StackSize())
	if !p.track(s, func() { _ = l.Close() }) {
		closeSync(s)
		l.acc.free()
		return nil, ErrShutdown
	}
	return l, nil
}

// socket makes a socket with WskSocket.
func (p *Provider) socket(fam, sotype, protocol int, flags dispatch.SocketFlags) (*dispatch.Socket, error) {
	res := wsk.Call(context.Background(), 1, func(i *irp.IRP) irp.Status {
		return p.npi.Dispatch.Socket(p.npi.Client, fam, sotype, protocol, flags, nil, nil, i)
	})
	if res.Status != irp.Success {
		return nil, statusErr(res.Status, false, false)
	}
	return res.Object.(*dispatch.Socket), nil
}

// bindLocal binds s to a (WskBind; for a listen socket that also listens), runs then
// (if not nil; a status of its own), and returns the bound address (WskGetLocalAddress).
func bindLocal(s *dispatch.Socket, bind dispatch.BindFunc, get dispatch.GetAddressFunc, a netip.AddrPort,
	then func() irp.Status) (netip.AddrPort, irp.Status) {
	bg := context.Background()
	var bound netip.AddrPort
	res := wsk.Call(bg, s.StackSize(), func(i *irp.IRP) irp.Status { return bind(s, a, 0, i) })
	if res.Status == irp.Success && then != nil {
		res.Status = then()
	}
	if res.Status == irp.Success {
		res = wsk.Call(bg, s.StackSize(), func(i *irp.IRP) irp.Status { return get(s, &bound, i) })
	}
	return bound, res.Status
}

// closeSync closes s from ordinary Go code and waits for its close IRP.
func closeSync(s *dispatch.Socket) {
	wsk.Call(context.Background(), s.StackSize(), func(i *irp.IRP) irp.Status { return s.Basic().CloseSocket(s, i) })
}

// Accept waits for and returns the next connection, a *TCPConn (net.Listener).
func (l *Listener) Accept() (net.Conn, error) { return l.AcceptTCP() }

// AcceptTCP is Accept returning the concrete type.
func (l *Listener) AcceptTCP() (*TCPConn, error) {
	if !l.ops.Acquire() {
		return nil, l.opErr(net.ErrClosed)
	}
	defer l.ops.Release()
	a := &l.acc
	a.op.Lock()
	defer a.op.Unlock()
	i := a.prepare()
	if closed, _ := a.begin(); closed {
		return nil, l.opErr(net.ErrClosed)
	}
	res, _, closed := a.wait(l.lt.Accept(l.s, 0, nil, nil, &l.local, &l.remote, i))
	if res.Status != irp.Success {
		if closed {
			return nil, l.opErr(net.ErrClosed)
		}
		return nil, l.opErr(acceptErr(res.Status))
	}
	c, err := l.p.newConn(res.Object.(*dispatch.Socket), l.network, l.local, l.remote)
	if err != nil {
		return nil, l.opErr(err)
	}
	return c, nil
}

func (l *Listener) opErr(err error) error {
	return opErr("accept", l.network, nil, l.addr, err)
}

// Close stops listening: a pending Accept returns net.ErrClosed at once, connections
// still in the kernel's queue are reset. Connections already accepted are not affected.
// It waits for the listen socket's close IRP. A second Close returns net.ErrClosed.
func (l *Listener) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return opErr("close", l.network, nil, l.addr, net.ErrClosed)
	}
	l.acc.close()
	var wg sync.WaitGroup
	wg.Add(1)
	l.ops.WaitFunc(wg.Done)
	wg.Wait() // the pending Accept was cancelled: prompt
	closeSync(l.s)
	l.acc.free()
	l.p.untrack(l.s)
	return nil
}

// Addr is the bound address, a *net.TCPAddr.
func (l *Listener) Addr() net.Addr { return l.addr }

// Socket is the underlying WSK listen socket.
func (l *Listener) Socket() *dispatch.Socket { return l.s }
