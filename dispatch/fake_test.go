package dispatch

import (
	"net/netip"
	"runtime"
	"sync/atomic"

	"github.com/gowsk/gowsk/irp"
)

// fakeProvider is a connection-socket provider that counts what reaches it. Its Send
// completes synchronously; its close completes the close IRP at once.
type fakeProvider struct {
	closed     atomic.Bool
	calls      atomic.Int64 // calls that reached the provider (any member but close)
	returned   atomic.Int64 // calls that returned from the provider
	afterClose atomic.Int64 // calls that reached the provider after its close ran: must stay 0
	inflight   atomic.Int64
	closes     atomic.Int64
	// Seen by the provider's close: calls in flight, and calls returned by then.
	closeInflight atomic.Int64
	closeReturned atomic.Int64
	gosched       bool
}

func (p *fakeProvider) enter() {
	p.inflight.Add(1)
	p.calls.Add(1)
	if p.closed.Load() {
		p.afterClose.Add(1)
	}
	if p.gosched {
		runtime.Gosched()
	}
}

func (p *fakeProvider) leave() {
	p.returned.Add(1)
	p.inflight.Add(-1)
}

func (p *fakeProvider) simple(s *Socket, i *irp.IRP) irp.Status {
	p.enter()
	defer p.leave()
	i.Complete(irp.Success, 0)
	return irp.Success
}

func (p *fakeProvider) table() *ConnectionDispatch {
	return &ConnectionDispatch{
		BasicDispatch: BasicDispatch{
			ControlSocket: func(s *Socket, _ ControlType, _, _ uint32, _, _ []byte, _ *int, i *irp.IRP) irp.Status {
				p.enter()
				defer p.leave()
				if i != nil {
					i.Complete(irp.Success, 0)
				}
				return irp.Success
			},
			CloseSocket: func(s *Socket, i *irp.IRP) irp.Status {
				p.closes.Add(1)
				p.closeInflight.Store(p.inflight.Load())
				p.closeReturned.Store(p.returned.Load())
				p.closed.Store(true)
				i.Complete(irp.Success, 0)
				return irp.Success
			},
		},
		Bind: func(s *Socket, _ netip.AddrPort, _ Flags, i *irp.IRP) irp.Status { return p.simple(s, i) },
		Connect: func(s *Socket, _ netip.AddrPort, _ Flags, i *irp.IRP) irp.Status {
			return p.simple(s, i)
		},
		GetLocalAddress:  func(s *Socket, _ *netip.AddrPort, i *irp.IRP) irp.Status { return p.simple(s, i) },
		GetRemoteAddress: func(s *Socket, _ *netip.AddrPort, i *irp.IRP) irp.Status { return p.simple(s, i) },
		Send: func(s *Socket, b *Buf, _ Flags, i *irp.IRP) irp.Status {
			p.enter()
			defer p.leave()
			i.Complete(irp.Success, uintptr(b.Length))
			return irp.Success
		},
		Receive:    func(s *Socket, _ *Buf, _ Flags, i *irp.IRP) irp.Status { return p.simple(s, i) },
		Disconnect: func(s *Socket, _ *Buf, _ Flags, i *irp.IRP) irp.Status { return p.simple(s, i) },
		Release: func(s *Socket, _ *DataIndication) irp.Status {
			p.enter()
			defer p.leave()
			return irp.Success
		},
		ConnectEx: func(s *Socket, _ netip.AddrPort, _ *Buf, _ Flags, i *irp.IRP) irp.Status {
			return p.simple(s, i)
		},
	}
}

// tracked is an IRP whose top completion routine counts its completions.
type tracked struct {
	irp         *irp.IRP
	completions atomic.Int32
	status      atomic.Uint32
	total       *atomic.Int64
}

func trackedRoutine(_ *irp.Device, i *irp.IRP, ctx any) irp.Status {
	tr := ctx.(*tracked)
	tr.status.Store(uint32(i.IoStatus.Status))
	tr.completions.Add(1)
	if tr.total != nil {
		tr.total.Add(1)
	}
	return irp.ContinueCompletion
}

func newTracked(stack int, total *atomic.Int64) *tracked {
	tr := &tracked{irp: irp.Allocate(stack), total: total}
	tr.irp.SetCompletionRoutine(trackedRoutine, tr, irp.InvokeAlways)
	return tr
}

func (tr *tracked) Status() irp.Status { return irp.Status(tr.status.Load()) }
