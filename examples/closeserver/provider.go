package main

import (
	"context"
	"fmt"
	"net/netip"
	"sync/atomic"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
)

// provider is what both modes hold of gowsk: the registration, the captured provider
// NPI and one listen socket. Everything goes through the WSK tables with IRPs; package
// net appears only on the peer's side.
type provider struct {
	reg  *wsk.Registration
	npi  wsk.ProviderNPI
	ls   *dispatch.Socket
	addr netip.AddrPort // the address the listen socket is bound to
}

// openProvider registers, captures the provider NPI, and creates a listen socket bound
// to local (a WSK listen socket listens from its bind on): IPv4 for an IPv4 address,
// IPv6 otherwise (the caller unmaps IPv4-mapped addresses). On failure everything it made
// is undone, so the caller owns nothing.
func openProvider(local netip.AddrPort) (*provider, error) {
	reg, st := wsk.Register(&wsk.ClientNPI{Dispatch: &dispatch.ClientDispatch{Version: dispatch.MakeVersion(1, 0)}}, providerOptions...)
	if st != irp.Success {
		return nil, fmt.Errorf("WskRegister: %v", st)
	}
	npi, st := reg.CaptureProviderNPI(dispatch.InfiniteWait)
	if st != irp.Success {
		reg.Deregister()
		return nil, fmt.Errorf("WskCaptureProviderNPI: %v", st)
	}
	p := &provider{reg: reg, npi: npi}
	family := wsk.AFInet
	if local.Addr().Is6() {
		family = wsk.AFInet6
	}
	ctx := context.Background()
	res := wsk.Call(ctx, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, family, wsk.SockStream, wsk.IPProtoTCP, dispatch.ListenSocket, nil, nil, i)
	})
	if res.Status != irp.Success {
		p.shutdown()
		return nil, fmt.Errorf("WskSocket(listen): %v", res.Status)
	}
	p.ls = res.Object.(*dispatch.Socket)
	lt := p.ls.Listen()
	res = wsk.Call(ctx, p.ls.StackSize(), func(i *irp.IRP) irp.Status { return lt.Bind(p.ls, local, 0, i) })
	if res.Status != irp.Success {
		p.shutdown()
		return nil, fmt.Errorf("WskBind %v: %v", local, res.Status)
	}
	res = wsk.Call(ctx, p.ls.StackSize(), func(i *irp.IRP) irp.Status { return lt.GetLocalAddress(p.ls, &p.addr, i) })
	if res.Status != irp.Success {
		p.shutdown()
		return nil, fmt.Errorf("WskGetLocalAddress: %v", res.Status)
	}
	return p, nil
}

// accept takes one connection through an Accept IRP. ctx ending cancels the IRP
// (STATUS_CANCELLED); the socket is nil whenever the status is not STATUS_SUCCESS.
func (p *provider) accept(ctx context.Context) (*dispatch.Socket, netip.AddrPort, irp.Status) {
	var remote netip.AddrPort
	lt := p.ls.Listen()
	res := wsk.Call(ctx, p.ls.StackSize(), func(i *irp.IRP) irp.Status {
		return lt.Accept(p.ls, 0, nil, nil, nil, &remote, i)
	})
	if res.Status != irp.Success {
		return nil, remote, res.Status
	}
	return res.Object.(*dispatch.Socket), remote, irp.Success
}

// shutdown closes the listen socket, releases the NPI and deregisters. Deregister waits
// for every socket to be closed, so every connection socket must be closed (or its
// CloseSocket issued) before this is called.
func (p *provider) shutdown() {
	if p.ls != nil {
		closeSocket(p.ls)
		p.ls = nil
	}
	p.reg.ReleaseProviderNPI()
	p.reg.Deregister()
}

// closeSocket is a synchronous WskCloseSocket. It never takes a context: a close IRP
// always completes (the protocol has no step that waits on the network), and cancelling
// it would not be honoured anyway.
func closeSocket(s *dispatch.Socket) irp.Status {
	return wsk.Call(context.Background(), s.StackSize(), func(i *irp.IRP) irp.Status {
		return s.Basic().CloseSocket(s, i)
	}).Status
}

// asyncCall is one asynchronous socket call with an IRP of its own: the shape a WSK
// client uses when it must not block (several receives posted at once, a call racing
// close). Its completion routine records the final IoStatus and a global completion
// number, and counts how often it ran, which is how the tour shows "every IRP completed
// exactly once" and "in this order".
type asyncCall struct {
	i        *irp.IRP
	returned irp.Status        // what the call itself returned
	final    irp.IoStatusBlock // the status it completed with (valid after done)
	seq      int64             // its place in the completion order (valid after done)
	runs     atomic.Int32      // how many times the completion routine ran
	done     chan struct{}
}

// start allocates an IRP for a call on s, sets the recording completion routine and
// makes the call. order numbers completions across every call that shares it. The
// routine returns MoreProcessingRequired: the IRP stays ours, and wait frees it.
func start(order *atomic.Int64, s *dispatch.Socket, call func(*irp.IRP) irp.Status) *asyncCall {
	c := &asyncCall{i: irp.Allocate(s.StackSize()), done: make(chan struct{})}
	c.i.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		if c.runs.Add(1) == 1 {
			c.final = i.IoStatus
			c.seq = order.Add(1)
			close(c.done)
		}
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	c.returned = call(c.i)
	return c
}

// wait blocks until the IRP completed, frees it and returns the final IoStatus. Never
// call it from a completion routine.
func (c *asyncCall) wait() irp.IoStatusBlock {
	<-c.done
	c.i.Free()
	return c.final
}
