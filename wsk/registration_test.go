//go:build unix || windows

package wsk

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

func register(t *testing.T, version uint16, opts ...Option) *Registration {
	t.Helper()
	r, st := Register(&ClientNPI{Dispatch: &dispatch.ClientDispatch{Version: version}}, opts...)
	require.Equal(t, irp.Success, st)
	return r
}

func TestRegisterRejectsNil(t *testing.T) {
	r, st := Register(nil)
	require.Nil(t, r)
	require.Equal(t, irp.InvalidParameter, st)
	r, st = Register(&ClientNPI{})
	require.Nil(t, r)
	require.Equal(t, irp.InvalidParameter, st)
}

// Invariant 6: an unsupported version fails with NOINTERFACE; a success reports the
// requested major and a minor at least the requested one.
func TestCaptureVersion(t *testing.T) {
	for _, v := range []uint16{dispatch.MakeVersion(2, 0), dispatch.MakeVersion(0, 9), dispatch.MakeVersion(1, 1)} {
		r := register(t, v)
		_, st := r.CaptureProviderNPI(dispatch.NoWait)
		require.Equal(t, irp.NoInterface, st, "version %#x", v)
		ch, st := r.QueryProviderCharacteristics()
		require.Equal(t, irp.Success, st)
		require.Equal(t, Characteristics{HighestVersion: 0x0100, LowestVersion: 0x0100}, ch)
		r.Deregister()
	}
	r := register(t, dispatch.MakeVersion(1, 0))
	npi, st := r.CaptureProviderNPI(dispatch.NoWait)
	require.Equal(t, irp.Success, st)
	require.NotNil(t, npi.Client)
	require.Equal(t, uint8(1), dispatch.VersionMajor(npi.Dispatch.Version))
	require.GreaterOrEqual(t, dispatch.VersionMinor(npi.Dispatch.Version), uint8(0))
	for _, f := range []any{npi.Dispatch.Socket, npi.Dispatch.SocketConnect, npi.Dispatch.ControlClient,
		npi.Dispatch.GetAddressInfo, npi.Dispatch.FreeAddressInfo, npi.Dispatch.GetNameInfo} {
		require.NotNil(t, f)
	}
	finish(t, r)
}

// Invariant 2: NoWait never blocks and reports DEVICE_NOT_READY while the provider is
// unavailable; a timed wait gives up the same way.
func TestCaptureNoWaitWhileUnavailable(t *testing.T) {
	r := register(t, dispatch.MakeVersion(1, 0), withProviderUnavailable())
	_, st := r.CaptureProviderNPI(dispatch.NoWait)
	require.Equal(t, irp.DeviceNotReady, st)
	_, st = r.CaptureProviderNPI(1)
	require.Equal(t, irp.DeviceNotReady, st)

	got := make(chan irp.Status)
	go func() {
		_, st := r.CaptureProviderNPI(dispatch.InfiniteWait)
		got <- st
	}()
	r.makeAvailable()
	require.Equal(t, irp.Success, <-got)
	_, st = r.CaptureProviderNPI(dispatch.NoWait)
	require.Equal(t, irp.Success, st)
	r.ReleaseProviderNPI()
	finish(t, r)
}

// Invariant 3: once Deregister has begun, blocked and new captures fail with
// DEVICE_NOT_READY, and so does QueryProviderCharacteristics.
func TestDeregisterWakesBlockedCaptures(t *testing.T) {
	r := register(t, dispatch.MakeVersion(1, 0), withProviderUnavailable())
	const n = 4
	got := make(chan irp.Status, 2*n)
	for k := 0; k < n; k++ {
		go func() {
			_, st := r.CaptureProviderNPI(dispatch.InfiniteWait)
			got <- st
		}()
		go func() {
			_, st := r.CaptureProviderNPI(60_000)
			got <- st
		}()
	}
	r.Deregister()
	for k := 0; k < 2*n; k++ {
		select {
		case st := <-got:
			require.Equal(t, irp.DeviceNotReady, st)
		case <-time.After(waitLimit):
			require.FailNow(t, "a blocked capture did not return after Deregister")
		}
	}
	_, st := r.CaptureProviderNPI(dispatch.NoWait)
	require.Equal(t, irp.DeviceNotReady, st)
	_, st = r.QueryProviderCharacteristics()
	require.Equal(t, irp.DeviceNotReady, st)
}

// Invariant 4 (captures): Deregister does not return while a capture is unreleased.
func TestDeregisterWaitsForCaptures(t *testing.T) {
	r := register(t, dispatch.MakeVersion(1, 0))
	_, st := r.CaptureProviderNPI(dispatch.NoWait)
	require.Equal(t, irp.Success, st)
	_, st = r.CaptureProviderNPI(dispatch.InfiniteWait)
	require.Equal(t, irp.Success, st)

	done := make(chan struct{})
	go func() { r.Deregister(); close(done) }()
	r.ReleaseProviderNPI()
	select {
	case <-done:
		require.FailNow(t, "Deregister returned with a capture still held")
	case <-time.After(20 * time.Millisecond):
	}
	r.ReleaseProviderNPI()
	select {
	case <-done:
	case <-time.After(waitLimit):
		require.FailNow(t, "Deregister did not return after the last release")
	}
	require.Zero(t, r.Stats().Captures)
}

// Invariant 1: a second Deregister and an unbalanced release are detected and counted,
// never a panic or a hang.
func TestDoubleDeregisterAndUnbalancedRelease(t *testing.T) {
	r := register(t, dispatch.MakeVersion(1, 0))
	r.ReleaseProviderNPI()
	r.Deregister()
	r.Deregister()
	st := r.Stats()
	require.EqualValues(t, 1, st.DoubleDeregister)
	require.EqualValues(t, 1, st.UnbalancedRelease)
	require.EqualValues(t, 2, st.Misuse)
	b, err := json.Marshal(st)
	require.NoError(t, err)
	require.Contains(t, string(b), `"double_deregister":1`)
}

// Invariants 4 and 5: a pending WSK_TRANSPORT_LIST_CHANGE IRP is cancelled when
// deregistration starts, and Deregister returns only after it completed.
func TestDeregisterCancelsListChange(t *testing.T) {
	r, npi := newReg(t)
	p := start(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.ControlClient(npi.Client, dispatch.TransportListChange, nil, nil, nil, i)
	})
	require.Equal(t, irp.Pending, p.ret)
	require.EqualValues(t, 1, r.Stats().IRPsPending)
	require.False(t, p.completed())

	// The owner may also cancel one itself.
	q := start(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.ControlClient(npi.Client, dispatch.TransportListChange, nil, nil, nil, i)
	})
	q.i.Cancel()
	require.Equal(t, irp.Cancelled, q.wait().Status)

	finish(t, r)
	require.Equal(t, irp.Cancelled, p.wait().Status)
	require.EqualValues(t, 2, r.Stats().IRPsCancelled)

	// A list change without an IRP is refused.
	require.Equal(t, irp.DeviceNotReady, npi.Dispatch.ControlClient(npi.Client, dispatch.TransportListChange, nil, nil, nil, nil))
}

func TestControlClientTransportListQuery(t *testing.T) {
	r, npi := newReg(t)
	var need int
	require.Equal(t, irp.BufferOverflow,
		npi.Dispatch.ControlClient(npi.Client, dispatch.TransportListQuery, nil, nil, &need, nil))
	require.Equal(t, 4*transportEntrySize, need)
	out := make([]byte, need)
	require.Equal(t, irp.Success,
		npi.Dispatch.ControlClient(npi.Client, dispatch.TransportListQuery, nil, out, &need, nil))
	require.Equal(t, byte(SockStream), out[2])
	// The query forbids an IRP: it is completed with INVALID_PARAMETER.
	io := do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.ControlClient(npi.Client, dispatch.TransportListQuery, nil, out, &need, i)
	})
	require.Equal(t, irp.InvalidParameter, io.Status)
	require.Equal(t, irp.NotSupported,
		npi.Dispatch.ControlClient(npi.Client, dispatch.CacheSD, nil, nil, nil, nil))
	finish(t, r)
}

func TestGetAddressAndNameInfo(t *testing.T) {
	r, npi := newReg(t)
	var res *dispatch.AddrInfo
	io := do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.GetAddressInfo(npi.Client, "127.0.0.1", "80", 0, &dispatch.AddrInfo{Family: AFInet}, &res, i)
	})
	require.Equal(t, irp.Success, io.Status)
	require.NotNil(t, res)
	require.Equal(t, "127.0.0.1:80", res.Addr.String())
	npi.Dispatch.FreeAddressInfo(npi.Client, res)

	var node, service string
	io = do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.GetNameInfo(npi.Client, res.Addr, &node, &service, dispatch.NINumericHost, i)
	})
	require.Equal(t, irp.Success, io.Status)
	require.Equal(t, "127.0.0.1", node)
	require.Equal(t, "80", service)

	io = do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.GetNameInfo(npi.Client, res.Addr, nil, nil, 0, i)
	})
	require.Equal(t, irp.InvalidParameter, io.Status)
	finish(t, r)
}
