//go:build linux

package wsk

import (
	"net"
	"net/netip"
	"runtime/metrics"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
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
//
// Only the close is timed (the connect and the accept are not): each close is timed on its
// own and the median is reported as ns/close (a median, because a shared machine adds
// outliers); allocs/close and B/close count the heap allocations of the close alone
// (runtime/metrics read around it, no stop-the-world), so wsk's is what one close allocates.
func BenchmarkCloseOnePending(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	defer ln.Close()
	to := ln.Addr().(*net.TCPAddr).AddrPort()

	b.Run("wsk", func(b *testing.B) { benchCloseWSK(b, ln, to) })
	for _, mode := range []string{"raw", "raw-epoll", "raw-del"} {
		b.Run(mode, func(b *testing.B) { benchCloseRaw(b, ln, to, mode) })
	}
}

func benchCloseWSK(b *testing.B, ln net.Listener, to netip.AddrPort) {
	r, npi := newReg(b)
	defer finish(b, r)
	var recvDone, closeDone atomic.Int64
	closed := make(chan struct{}, 1)
	var recvIRP, closeIRP *irp.IRP
	var mem [16]byte
	buf := dispatch.MakeBuf(mem[:])
	var m closeMeter
	for n := 0; n < b.N; n++ {
		io := do(b, 1, func(i *irp.IRP) irp.Status {
			return npi.Dispatch.SocketConnect(npi.Client, SockStream, IPProtoTCP, netip.AddrPort{}, to, 0, nil, nil, i)
		})
		require.Equal(b, irp.Success, io.Status)
		ws := io.Object.(*dispatch.Socket)
		pc, err := ln.Accept()
		require.NoError(b, err)
		if recvIRP == nil {
			recvIRP, closeIRP = irp.Allocate(ws.StackSize()), irp.Allocate(ws.StackSize())
			defer recvIRP.Free()
			defer closeIRP.Free()
		}
		recvIRP.Reuse(irp.Success)
		recvIRP.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
			if i.IoStatus.Status == irp.Cancelled {
				recvDone.Add(1)
			}
			return irp.MoreProcessingRequired
		}, nil, irp.InvokeAlways)
		require.Equal(b, irp.Pending, ws.Connection().Receive(ws, &buf, 0, recvIRP))
		closeIRP.Reuse(irp.Success)
		closeIRP.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
			if i.IoStatus.Status == irp.Success {
				closeDone.Add(1)
			}
			closed <- struct{}{}
			return irp.MoreProcessingRequired
		}, nil, irp.InvokeAlways)

		m.start()
		ws.Basic().CloseSocket(ws, closeIRP)
		select {
		case <-closed:
		case <-time.After(waitLimit):
			failStuck(b, "close IRP never completed")
		}
		m.stop()
		pc.Close()
	}
	m.report(b)
	require.EqualValues(b, b.N, recvDone.Load(), "every pending receive cancelled")
	require.EqualValues(b, b.N, closeDone.Load(), "every close IRP successful")
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
		if mode == "raw-del" {
			_ = unix.EpollCtl(epfd, unix.EPOLL_CTL_DEL, fd, nil)
		}
		_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, lg)
		err = unix.Close(fd)
		m.stop()
		require.NoError(b, err)
		pc.Close()
	}
	m.report(b)
}

// closeMeter times each close on its own and counts the heap allocations made meanwhile.
type closeMeter struct {
	times         []time.Duration
	t0            time.Time
	objs, bytes   uint64
	sample        [2]metrics.Sample
	objs0, bytes0 uint64
}

func (m *closeMeter) read() (objs, bytes uint64) {
	m.sample[0].Name, m.sample[1].Name = "/gc/heap/allocs:objects", "/gc/heap/allocs:bytes"
	metrics.Read(m.sample[:])
	return m.sample[0].Value.Uint64(), m.sample[1].Value.Uint64()
}

func (m *closeMeter) start() {
	m.objs0, m.bytes0 = m.read()
	m.t0 = time.Now()
}

func (m *closeMeter) stop() {
	m.times = append(m.times, time.Since(m.t0))
	o, by := m.read()
	m.objs += o - m.objs0
	m.bytes += by - m.bytes0
}

// report replaces ns/op (which would include the untimed connect) with the close's median.
func (m *closeMeter) report(b *testing.B) {
	slices.Sort(m.times)
	n := float64(len(m.times))
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(m.times[len(m.times)/2]), "ns/close")
	b.ReportMetric(float64(m.objs)/n, "allocs/close")
	b.ReportMetric(float64(m.bytes)/n, "B/close")
}
