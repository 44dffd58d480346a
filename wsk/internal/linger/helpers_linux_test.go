//go:build linux

package linger_test

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
	"github.com/gowsk/gowsk/wsk/internal/linger"
	"github.com/gowsk/gowsk/wsk/internal/linger/lingertest"
)

const waitLimit = 15 * time.Second

// rig is one wsk registration and a plain net listener standing for the peer.
type rig struct {
	t   *testing.T
	reg *wsk.Registration
	npi wsk.ProviderNPI
	ln  *net.TCPListener
	e   *linger.Engine
}

func newRig(t *testing.T, cfg linger.Config) *rig {
	cd := &dispatch.ClientDispatch{Version: dispatch.MakeVersion(1, 0)}
	reg, st := wsk.Register(&wsk.ClientNPI{Dispatch: cd})
	require.Equal(t, irp.Success, st)
	npi, st := reg.CaptureProviderNPI(dispatch.InfiniteWait)
	require.Equal(t, irp.Success, st)
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	r := &rig{t: t, reg: reg, npi: npi, ln: ln, e: linger.New(cfg)}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		assert.NoError(t, r.e.Shutdown(ctx), "Shutdown had to abort closes")
		_ = ln.Close()
		reg.ReleaseProviderNPI()
		reg.Deregister()
	})
	return r
}

// connect makes a wsk connection socket connected to the peer, and the peer's side.
// The peer's receive buffer is small so that a send queue fills quickly.
func (r *rig) connect() (*dispatch.Socket, *net.TCPConn) {
	t := r.t
	res := wsk.Call(context.Background(), 1, func(i *irp.IRP) irp.Status {
		return r.npi.Dispatch.SocketConnect(r.npi.Client, wsk.SockStream, wsk.IPProtoTCP,
			netip.AddrPort{}, r.ln.Addr().(*net.TCPAddr).AddrPort(), 0, nil, nil, i)
	})
	require.Equal(t, irp.Success, res.Status)
	s := res.Object.(*dispatch.Socket)
	_ = r.ln.SetDeadline(time.Now().Add(waitLimit))
	c, err := r.ln.AcceptTCP()
	require.NoError(t, err)
	require.NoError(t, c.SetReadBuffer(64<<10))
	t.Cleanup(func() { _ = c.Close() })
	return s, c
}

// asyncSend starts one send of n bytes on s; the returned channel gets its final status.
func asyncSend(s *dispatch.Socket, n int) <-chan irp.IoStatusBlock {
	ch := make(chan irp.IoStatusBlock, 1)
	buf := dispatch.MakeBuf(make([]byte, n))
	i := irp.Allocate(s.StackSize())
	i.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		ch <- i.IoStatus
		i.Free()
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	_ = s.Connection().Send(s, &buf, 0, i)
	return ch
}

// sendSync sends b and waits.
func sendSync(t *testing.T, s *dispatch.Socket, b []byte) {
	buf := dispatch.MakeBuf(b)
	res := wsk.Call(context.Background(), s.StackSize(), func(i *irp.IRP) irp.Status {
		return s.Connection().Send(s, &buf, 0, i)
	})
	require.Equal(t, irp.Success, res.Status)
}

type peerSaw = lingertest.Saw

func drain(c *net.TCPConn) peerSaw { return lingertest.Drain(c, waitLimit) }

func soError(c *net.TCPConn) syscall.Errno { return lingertest.SoError(c) }

func waitDone(t *testing.T, c *linger.Close) linger.Outcome {
	select {
	case <-c.Done():
	case <-time.After(waitLimit):
		require.FailNow(t, "close never finished")
	}
	return c.Outcome()
}

// countingWait is a WaitFunc that counts its calls (the Winsock layer's alertable wait
// stands in this place).
type countingWait struct{ calls atomic.Int64 }

func (w *countingWait) wait(done <-chan struct{}, d time.Duration) {
	w.calls.Add(1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
