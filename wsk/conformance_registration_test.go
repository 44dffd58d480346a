//go:build unix || windows

package wsk

import (
	"net/netip"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// Conformance of the registration functions (SPEC.md §2.2, §3.6) and of the
// client-level provider table after Deregister (SPEC.md §2.3). The wait modes of
// CaptureProviderNPI, the refusal of every provider member once deregistration began,
// and Deregister waiting for provider-level IRPs that are still pending.

// TestConformanceCaptureWaitModes: each wait mode of WskCaptureProviderNPI against a
// provider that is not ready yet, and again once it is (SPEC.md §2.2). Every success is
// counted in Stats.Captures and balanced by one release.
func TestConformanceCaptureWaitModes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		wait    uint32
		becomes bool // the provider becomes ready while the capture waits
		want    irp.Status
	}{
		{"no wait, not ready", dispatch.NoWait, false, irp.DeviceNotReady},
		{"timed wait, times out", 5, false, irp.DeviceNotReady},
		{"timed wait, ready in time", uint32(waitLimit / time.Millisecond), true, irp.Success},
		{"infinite wait, ready later", dispatch.InfiniteWait, true, irp.Success},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := register(t, dispatch.MakeVersion(1, 0), withProviderUnavailable())
			got := make(chan irp.Status, 1)
			go func() {
				_, st := r.CaptureProviderNPI(tc.wait)
				got <- st
			}()
			if tc.becomes {
				// Give the capture time to block first (not an assertion: if it has not
				// blocked yet it finds the provider ready, and the result is the same).
				time.Sleep(5 * time.Millisecond)
				r.makeAvailable()
			}
			select {
			case st := <-got:
				require.Equal(t, tc.want, st)
			case <-time.After(waitLimit):
				require.FailNow(t, "capture did not return")
			}
			if tc.want == irp.Success {
				require.EqualValues(t, 1, r.Stats().Captures)
				r.ReleaseProviderNPI()
			}
			// Once ready, every mode succeeds, and captures can be taken more than once.
			r.makeAvailable()
			for _, w := range []uint32{dispatch.NoWait, 5, dispatch.InfiniteWait} {
				npi, st := r.CaptureProviderNPI(w)
				require.Equal(t, irp.Success, st)
				require.NotNil(t, npi.Dispatch)
			}
			require.EqualValues(t, 3, r.Stats().Captures)
			r.ReleaseProviderNPI()
			r.ReleaseProviderNPI()
			// finish releases the last capture and deregisters.
			finish(t, r)
			require.Zero(t, r.Stats().UnbalancedRelease)
		})
	}
}

// TestConformanceProviderCallsAfterDeregister: once Deregister has returned, every
// member of WSK_PROVIDER_DISPATCH and every registration function refuses with
// STATUS_DEVICE_NOT_READY (invariants 1 and 3), completing the IRP it was given; nothing
// panics or hangs, and misuse is counted.
func TestConformanceProviderCallsAfterDeregister(t *testing.T) {
	r, npi := newReg(t)
	finish(t, r)
	c, d := npi.Client, npi.Dispatch
	remote := netip.MustParseAddrPort("127.0.0.1:9")
	var res *dispatch.AddrInfo
	var node, service string
	for _, tc := range []struct {
		name string
		call func(i *irp.IRP) irp.Status
	}{
		{"Socket", func(i *irp.IRP) irp.Status {
			return d.Socket(c, AFInet, SockStream, IPProtoTCP, dispatch.ConnectionSocket, nil, nil, i)
		}},
		{"SocketConnect", func(i *irp.IRP) irp.Status {
			return d.SocketConnect(c, SockStream, IPProtoTCP, netip.AddrPort{}, remote, 0, nil, nil, i)
		}},
		{"ControlClient(TRANSPORT_LIST_CHANGE)", func(i *irp.IRP) irp.Status {
			return d.ControlClient(c, dispatch.TransportListChange, nil, nil, nil, i)
		}},
		{"GetAddressInfo", func(i *irp.IRP) irp.Status {
			return d.GetAddressInfo(c, "127.0.0.1", "80", 0, nil, &res, i)
		}},
		{"GetNameInfo", func(i *irp.IRP) irp.Status {
			return d.GetNameInfo(c, remote, &node, &service, dispatch.NINumericHost, i)
		}},
	} {
		io := do(t, 1, tc.call)
		require.Equal(t, irp.DeviceNotReady, io.Status, tc.name)
		require.Nil(t, io.Object, tc.name)
	}
	require.Nil(t, res)
	var need int
	require.Equal(t, irp.DeviceNotReady, d.ControlClient(c, dispatch.TransportListQuery, nil, nil, &need, nil))
	d.FreeAddressInfo(c, nil) // a no-op, never a panic

	for _, w := range []uint32{dispatch.NoWait, 5, dispatch.InfiniteWait} {
		_, st := r.CaptureProviderNPI(w)
		require.Equal(t, irp.DeviceNotReady, st, "capture with wait %d after Deregister", w)
	}
	_, st := r.QueryProviderCharacteristics()
	require.Equal(t, irp.DeviceNotReady, st)
	r.ReleaseProviderNPI()
	r.Deregister()
	s := r.Stats()
	require.EqualValues(t, 1, s.UnbalancedRelease)
	require.EqualValues(t, 1, s.DoubleDeregister)
	require.Zero(t, s.SocketsCreated)
	require.Zero(t, s.IRPsPending)
}

// TestConformanceDeregisterWaitsForResolverIRPs: invariant 4 for provider-level calls
// and IRPs. Resolver calls (each leaves its IRP pending on a goroutine) race with
// Deregister while a capture is still held: every call either runs (and its IRP
// completes with success) or is refused with STATUS_DEVICE_NOT_READY, and when
// Deregister returns every IRP has completed.
func TestConformanceDeregisterWaitsForResolverIRPs(t *testing.T) {
	r, npi := newReg(t)
	const callers = 4
	var (
		mu    sync.Mutex
		calls []*pcall
	)
	firstOK := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	deadline := time.Now().Add(waitLimit)
	for g := range callers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				var p *pcall
				if g%2 == 0 {
					res := new(*dispatch.AddrInfo)
					p = start(t, 1, func(i *irp.IRP) irp.Status {
						return npi.Dispatch.GetAddressInfo(npi.Client, "127.0.0.1", "443", 0, nil, res, i)
					})
				} else {
					var node, service string
					p = start(t, 1, func(i *irp.IRP) irp.Status {
						return npi.Dispatch.GetNameInfo(npi.Client, netip.MustParseAddrPort("[::1]:80"), &node, &service, dispatch.NINumericHost, i)
					})
				}
				mu.Lock()
				calls = append(calls, p)
				mu.Unlock()
				if p.ret == irp.DeviceNotReady {
					return // Deregister has begun: every later call is refused too
				}
				<-p.done
				if p.io.Status == irp.Success {
					once.Do(func() { close(firstOK) })
				}
			}
		})
	}
	select {
	case <-firstOK:
	case <-time.After(waitLimit):
		require.FailNow(t, "no resolver call succeeded")
	}
	deregistered := make(chan struct{})
	go func() { r.Deregister(); close(deregistered) }()
	wg.Wait()
	select {
	case <-deregistered:
		require.FailNow(t, "Deregister returned with a capture still held")
	default:
	}
	r.ReleaseProviderNPI()
	select {
	case <-deregistered:
	case <-time.After(waitLimit):
		require.FailNow(t, "Deregister did not return")
	}
	var ok, refused int
	for _, p := range calls {
		require.True(t, p.completed(), "a provider-level IRP was still pending when Deregister returned")
		switch st := p.wait().Status; st {
		case irp.Success:
			ok++
		case irp.DeviceNotReady:
			refused++
		default:
			require.Failf(t, "unexpected status", "%v", st)
		}
	}
	require.Positive(t, ok, "no call ran before Deregister")
	require.Equal(t, callers, refused, "each caller ends on a refusal")
	require.Zero(t, r.Stats().IRPsPending)
	require.Zero(t, r.Stats().Captures)
}

// TestConformanceDeregisterWaitsForPendingSocketConnect: a WskSocketConnect whose SYN is
// never answered stays pending; Deregister (capture released) waits for it. Cancelling
// the IRP completes it with STATUS_CANCELLED and no socket, the provider destroys the
// socket it made, and Deregister returns (invariant 4, pending provider-level IRP).
func TestConformanceDeregisterWaitsForPendingSocketConnect(t *testing.T) {
	requireFixture(t, fixStuckConnect)
	r, npi := newReg(t)
	addr := stuckConnectTarget(t, "tcp4")
	p := start(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.SocketConnect(npi.Client, SockStream, IPProtoTCP, netip.AddrPort{}, addr, 0, nil, nil, i)
	})
	require.Equal(t, irp.Pending, p.ret)
	require.EqualValues(t, 1, r.Stats().SocketsOpen)
	r.ReleaseProviderNPI()
	done := make(chan struct{})
	go func() { r.Deregister(); close(done) }()
	select {
	case <-done:
		require.FailNow(t, "Deregister returned while a SocketConnect IRP was pending")
	case <-time.After(20 * time.Millisecond):
	}
	require.False(t, p.completed())
	p.i.Cancel()
	io := p.wait()
	require.Equal(t, irp.Cancelled, io.Status)
	require.Nil(t, io.Object, "a failed SocketConnect hands out no socket")
	select {
	case <-done:
	case <-time.After(waitLimit):
		require.FailNow(t, "Deregister did not return after the SocketConnect IRP completed")
	}
	s := r.Stats()
	require.Zero(t, s.SocketsOpen)
	require.EqualValues(t, 1, s.SocketsClosed)
	require.Zero(t, s.IRPsPending)
	require.Zero(t, s.ResetsSent, "a connect that never completed is not reset")
}

// TestConformanceSocketConnectRefusedAtOnce: a WskSocketConnect refused before its
// connect starts (bad arguments, a limit) completes its IRP with the failure and no
// socket, and the provider destroys the socket it made: Deregister still returns. (A
// connect refused at once used to leave that socket open, and Deregister hung.)
func TestConformanceSocketConnectRefusedAtOnce(t *testing.T) {
	v4 := netip.MustParseAddrPort("127.0.0.1:0")
	for _, tc := range []struct {
		name          string
		sotype        int
		local, remote netip.AddrPort
		flags         dispatch.SocketFlags
		want          irp.Status
	}{
		{"remote of the other family", SockStream, v4, netip.MustParseAddrPort("[::1]:9"), 0, irp.InvalidParameter},
		{"remote port 0", SockStream, v4, netip.MustParseAddrPort("127.0.0.1:0"), 0, irp.InvalidParameter},
		{"no remote", SockStream, v4, netip.AddrPort{}, 0, irp.InvalidParameter},
		{"flags", SockStream, v4, netip.MustParseAddrPort("127.0.0.1:9"), dispatch.ConnectionSocket, irp.InvalidParameter},
		{"datagram type", SockDgram, v4, netip.MustParseAddrPort("127.0.0.1:9"), 0, irp.InvalidParameter},
		{"local address not on this host", SockStream, netip.MustParseAddrPort("192.0.2.1:0"), netip.MustParseAddrPort("127.0.0.1:9"), 0, irp.FromError(syscall.EADDRNOTAVAIL)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, npi := newReg(t)
			io := do(t, 1, func(i *irp.IRP) irp.Status {
				return npi.Dispatch.SocketConnect(npi.Client, tc.sotype, 0, tc.local, tc.remote, tc.flags, nil, nil, i)
			})
			require.Equal(t, tc.want, io.Status)
			require.Nil(t, io.Object)
			finish(t, r) // fails if the socket the provider made is still open
		})
	}
	t.Run("pending limit", func(t *testing.T) {
		r, npi := newReg(t, WithLimits(Limits{MaxPendingTotal: 1}))
		ws, _ := connect(t, npi)
		p := recv(t, ws, make([]byte, 1), 0)
		require.Equal(t, irp.Pending, p.ret)
		peer := newPeer(t)
		io := do(t, 1, func(i *irp.IRP) irp.Status {
			return npi.Dispatch.SocketConnect(npi.Client, SockStream, IPProtoTCP, netip.AddrPort{}, peer.addr(), 0, nil, nil, i)
		})
		require.Equal(t, irp.InsufficientResources, io.Status)
		require.Nil(t, io.Object)
		closeSocketSync(t, ws)
		require.Equal(t, irp.Cancelled, p.wait().Status)
		finish(t, r)
	})
}

// TestConformanceListChangeRacingDeregister: invariant 5 under a race. List-change IRPs
// submitted while Deregister begins are either refused (STATUS_DEVICE_NOT_READY) or
// queued and then cancelled by the deregistration; none is left pending, so Deregister
// returns. Both outcomes must be seen.
func TestConformanceListChangeRacingDeregister(t *testing.T) {
	rounds := 60
	if testing.Short() {
		rounds = 20
	}
	var cancelled, refused int
	for range rounds {
		r, npi := newReg(t)
		const callers = 3
		var (
			mu    sync.Mutex
			calls []*pcall
			wg    sync.WaitGroup
		)
		gate := make(chan struct{})
		for g := range callers {
			wg.Go(func() {
				<-gate
				for n := 0; ; n++ {
					if n%4 == g {
						runtime.Gosched() // vary the interleaving with Deregister
					}
					p := start(t, 1, func(i *irp.IRP) irp.Status {
						return npi.Dispatch.ControlClient(npi.Client, dispatch.TransportListChange, nil, nil, nil, i)
					})
					mu.Lock()
					calls = append(calls, p)
					mu.Unlock()
					if p.ret == irp.DeviceNotReady {
						return
					}
				}
			})
		}
		deregistered := make(chan struct{})
		close(gate)
		runtime.Gosched()
		go func() { r.Deregister(); close(deregistered) }()
		wg.Wait()
		r.ReleaseProviderNPI()
		select {
		case <-deregistered:
		case <-time.After(waitLimit):
			require.FailNow(t, "Deregister hung: a list-change IRP queued during it was never cancelled")
		}
		for _, p := range calls {
			require.True(t, p.completed())
			switch st := p.wait().Status; st {
			case irp.Cancelled:
				cancelled++
			case irp.DeviceNotReady:
				refused++
			default:
				require.Failf(t, "unexpected status", "%v", st)
			}
		}
		require.Zero(t, r.Stats().IRPsPending)
	}
	require.Positive(t, cancelled, "no list change was queued and then cancelled by Deregister")
	require.Positive(t, refused, "no list change was refused")
	t.Logf("cancelled %d, refused %d", cancelled, refused)
}

// TestConformanceIndependentRegistrations: WskRegister may be called several times, each
// registration with its own lifetime (SPEC.md §2.2). Deregistering one, with its sockets closed,
// returns while another still has a socket open and an IRP pending; that one goes on
// working, and a client of the first used after its Deregister is refused.
func TestConformanceIndependentRegistrations(t *testing.T) {
	ra, npiA := newReg(t)
	rb, npiB := newReg(t)
	wa, ca := connect(t, npiA)
	wb, cb := connect(t, npiB)
	pb := recv(t, wb, make([]byte, 4), 0)
	require.Equal(t, irp.Pending, pb.ret)

	cfCleanClose(t, wa, ca, "a")
	finish(t, ra)
	require.Equal(t, irp.DeviceNotReady, do(t, 1, func(i *irp.IRP) irp.Status {
		return npiA.Dispatch.Socket(npiA.Client, AFInet, SockStream, 0, dispatch.ConnectionSocket, nil, nil, i)
	}).Status)

	require.False(t, pb.completed(), "B's pending receive was touched by A's Deregister")
	writePeer(t, cb, "b")
	io := pb.wait()
	require.Equal(t, irp.Success, io.Status)
	require.EqualValues(t, 1, io.Information)
	require.EqualValues(t, 1, rb.Stats().SocketsOpen)
	require.Zero(t, ra.Stats().SocketsOpen)
	cfCleanClose(t, wb, cb, "b")
	finish(t, rb)
	require.EqualValues(t, 1, ra.Stats().SocketsCreated)
	require.EqualValues(t, 1, rb.Stats().SocketsCreated)
}

// TestConformanceDeregisterWaitsForEveryCategory: invariant 4 for sockets of every
// category (not only connections): Deregister, with the capture released, returns only
// once the last socket is closed, and refuses new sockets meanwhile.
func TestConformanceDeregisterWaitsForEveryCategory(t *testing.T) {
	r, npi := newReg(t)
	var open []*dispatch.Socket
	for _, c := range cfCategories {
		open = append(open, cfNewSock(t, npi, c.cat, AFInet))
	}
	r.ReleaseProviderNPI()
	done := make(chan struct{})
	go func() { r.Deregister(); close(done) }()
	for k, ws := range open {
		select {
		case <-done:
			require.FailNow(t, "Deregister returned with sockets open", "%d still open", len(open)-k)
		case <-time.After(5 * time.Millisecond):
		}
		require.Equal(t, irp.DeviceNotReady, do(t, 1, func(i *irp.IRP) irp.Status {
			return npi.Dispatch.Socket(npi.Client, AFInet, SockDgram, 0, dispatch.DatagramSocket, nil, nil, i)
		}).Status)
		closeSocketSync(t, ws)
	}
	select {
	case <-done:
	case <-time.After(waitLimit):
		require.FailNow(t, "Deregister did not return after the last close")
	}
	require.Zero(t, r.Stats().SocketsOpen)
	require.EqualValues(t, len(open), r.Stats().SocketsClosed)
}
