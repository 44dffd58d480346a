//go:build linux

package wsk

import (
	"net"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/internal/sock"
)

// BenchmarkCloseOnePending times the close of a connected socket with one receive IRP
// pending (the close suite's K=1 row, bench -suite close) next to its floors, in one run:
//
//	wsk        WskCloseSocket, from the call to the close IRP's completion: cancel the
//	           receive, reset (SO_LINGER {1, 0}), leave the engine, close(2)
//	raw        SO_LINGER {1, 0} + close(2) on a plain connected descriptor
//	raw-epoll  the same on a descriptor that is in an epoll set, registered as the epoll
//	           engine registers its own (EPOLLET): close(2) then takes it out of the set
//	raw-del    EPOLL_CTL_DEL, then SO_LINGER {1, 0} + close(2): the removal as its own call
//	raw-wsk    the system calls wsk's close makes, by hand, on a descriptor in an epoll
//	           set: the TCP-state probe (tcpFinished: a zero-timeout ppoll), SO_LINGER
//	           {1, 0}, close(2). wsk minus raw-wsk is the provider's own (Go) part
//
// Only the close is timed (the connect and the accept are not): each close is timed on its
// own and the median is reported as ns/close (a median, because a shared machine adds
// outliers). What one close allocates is TestCloseAllocations' figure: counting it exactly
// needs runtime.ReadMemStats around each close, whose stop-the-world would disturb the
// timing here.
func BenchmarkCloseOnePending(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	defer ln.Close()
	to := ln.Addr().(*net.TCPAddr).AddrPort()

	b.Run("wsk", func(b *testing.B) { benchCloseWSK(b, ln, to) })
	for _, mode := range []string{"raw", "raw-epoll", "raw-del", "raw-wsk"} {
		b.Run(mode, func(b *testing.B) { benchCloseRaw(b, ln, to, mode) })
	}
}

func benchCloseWSK(b *testing.B, ln net.Listener, to netip.AddrPort) {
	r, npi := newReg(b)
	defer finish(b, r)
	c := newPendingCloser(b, npi, ln, to)
	defer c.free()
	var m closeMeter
	for n := 0; n < b.N; n++ {
		c.connect()
		m.start()
		c.close()
		m.stop()
		c.done()
	}
	m.report(b)
	c.check(b.N)
}

// pendingCloser makes connections with one receive pending and closes them: connect
// (WskSocketConnect to ln, accept, post the receive), close (WskCloseSocket until its IRP
// completed: the part to time and count), done (close the peer). Its IRPs are reused.
type pendingCloser struct {
	tb                  testing.TB
	npi                 ProviderNPI
	ln                  net.Listener
	to                  netip.AddrPort
	ws                  *dispatch.Socket
	pc                  net.Conn
	recvIRP, closeIRP   *irp.IRP
	recvDone, closeDone atomic.Int64
	closed              chan struct{}
	timer               *time.Timer // reused: a time.After per close would be counted as the close's
	mem                 [16]byte
	buf                 dispatch.Buf
}

func newPendingCloser(tb testing.TB, npi ProviderNPI, ln net.Listener, to netip.AddrPort) *pendingCloser {
	c := &pendingCloser{tb: tb, npi: npi, ln: ln, to: to, closed: make(chan struct{}, 1),
		timer: time.NewTimer(waitLimit)}
	c.timer.Stop()
	c.buf = dispatch.MakeBuf(c.mem[:])
	return c
}

func (c *pendingCloser) connect() {
	io := do(c.tb, 1, func(i *irp.IRP) irp.Status {
		return c.npi.Dispatch.SocketConnect(c.npi.Client, SockStream, IPProtoTCP, netip.AddrPort{}, c.to, 0, nil, nil, i)
	})
	require.Equal(c.tb, irp.Success, io.Status)
	c.ws = io.Object.(*dispatch.Socket)
	pc, err := c.ln.Accept()
	require.NoError(c.tb, err)
	c.pc = pc
	if c.recvIRP == nil {
		c.recvIRP, c.closeIRP = irp.Allocate(c.ws.StackSize()), irp.Allocate(c.ws.StackSize())
	}
	c.recvIRP.Reuse(irp.Success)
	c.recvIRP.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		if i.IoStatus.Status == irp.Cancelled {
			c.recvDone.Add(1)
		}
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	require.Equal(c.tb, irp.Pending, c.ws.Connection().Receive(c.ws, &c.buf, 0, c.recvIRP))
	c.closeIRP.Reuse(irp.Success)
	c.closeIRP.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
		if i.IoStatus.Status == irp.Success {
			c.closeDone.Add(1)
		}
		c.closed <- struct{}{}
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
}

func (c *pendingCloser) close() {
	c.ws.Basic().CloseSocket(c.ws, c.closeIRP)
	select {
	case <-c.closed: // the common case: the close completed on this goroutine
	default: // handed to the loop: a handler of the descriptor was running
		c.timer.Reset(waitLimit)
		select {
		case <-c.closed:
		case <-c.timer.C:
			failStuck(c.tb, "close IRP never completed")
		}
		c.timer.Stop()
	}
}

func (c *pendingCloser) done() { c.pc.Close() }

// check asserts that each of the n closes cancelled its receive and completed its IRP.
func (c *pendingCloser) check(n int) {
	require.EqualValues(c.tb, n, c.recvDone.Load(), "every pending receive cancelled")
	require.EqualValues(c.tb, n, c.closeDone.Load(), "every close IRP successful")
}

func (c *pendingCloser) free() {
	if c.recvIRP != nil {
		c.recvIRP.Free()
		c.closeIRP.Free()
	}
}

func benchCloseRaw(b *testing.B, ln net.Listener, to netip.AddrPort, mode string) {
	epfd := -1
	if mode != "raw" {
		var err error
		epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		require.NoError(b, err)
		defer unix.Close(epfd)
	}
	sa := &unix.SockaddrInet4{Port: int(to.Port()), Addr: to.Addr().As4()}
	lg := &unix.Linger{Onoff: 1, Linger: 0}
	var m closeMeter
	for n := 0; n < b.N; n++ {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		require.NoError(b, err)
		if err := unix.Connect(fd, sa); err != nil && err != unix.EINPROGRESS {
			require.NoError(b, err)
		}
		pc, err := ln.Accept()
		require.NoError(b, err)
		if epfd >= 0 {
			ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fd)}
			require.NoError(b, unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev))
		}
		m.start()
		err = rawClose(b, fd, epfd, mode, lg)
		m.stop()
		require.NoError(b, err)
		pc.Close()
	}
	m.report(b)
}

// rawClose is the timed part of a raw close (its own frame, so that a profile can tell
// it from the connect and the accept).
//
//go:noinline
func rawClose(b *testing.B, fd, epfd int, mode string, lg *unix.Linger) error {
	switch mode {
	case "raw-del":
		_ = unix.EpollCtl(epfd, unix.EPOLL_CTL_DEL, fd, nil)
	case "raw-wsk":
		if sock.TCPFinished(fd) {
			b.Fatal("a connected socket probed as finished")
		}
	}
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, lg)
	return unix.Close(fd)
}

// closeMeter times each close on its own.
type closeMeter struct {
	times []time.Duration
	t0    time.Time
}

func (m *closeMeter) start() { m.t0 = time.Now() }

func (m *closeMeter) stop() { m.times = append(m.times, time.Since(m.t0)) }

// report replaces ns/op (which would include the untimed connect) with the close's median.
func (m *closeMeter) report(b *testing.B) {
	slices.Sort(m.times)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(m.times[len(m.times)/2]), "ns/close")
}
