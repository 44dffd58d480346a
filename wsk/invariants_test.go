//go:build unix || windows

package wsk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// Invariants of SPEC.md §10 that the other test files cover only in part: the IRP
// information contract (12), stack locations (20), sticky terminal errors, every bound
// of Limits, every Stats field, the logger being silent unless asked for, dead and
// refusing listeners (36, 37), bad client tables, and the SPEC.md §3.5 state machine driven by
// random sequences.

// TestInvariantInformationBounded: invariant 12. A receive never reports more than
// WSK_BUF.Length bytes and fills the segments of a chained buffer in order; a send
// reports every byte of its buffer.
func TestInvariantInformationBounded(t *testing.T) {
	r, npi := newReg(t)
	ws, c := connect(t, npi)
	writePeer(t, c, "0123456789abcdefghij")

	small := make([]byte, 4)
	io := recv(t, ws, small, dispatch.FlagWaitAll).wait()
	require.Equal(t, irp.Success, io.Status)
	require.EqualValues(t, 4, io.Information)
	require.Equal(t, "0123", string(small))

	// A chained buffer, three segments, WAITALL: exactly Length bytes, in segment order.
	s1, s2, s3 := make([]byte, 2), make([]byte, 3), make([]byte, 5)
	chain := dispatch.MakeBufChain(s1, s2, s3)
	p := start(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Connection().Receive(ws, &chain, dispatch.FlagWaitAll, i)
	})
	io = p.wait()
	require.Equal(t, irp.Success, io.Status)
	require.EqualValues(t, chain.Length, io.Information)
	require.Equal(t, "456789abcd", string(s1)+string(s2)+string(s3))

	// More room than data: Information is what arrived, never more than Length.
	big := make([]byte, 64)
	io = recv(t, ws, big, 0).wait()
	require.Equal(t, irp.Success, io.Status)
	require.LessOrEqual(t, int(io.Information), len(big))
	require.Equal(t, "efghij", string(big[:io.Information]))

	out := dispatch.MakeBufChain([]byte("ab"), []byte("cde"))
	io = do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Connection().Send(ws, &out, 0, i) })
	require.Equal(t, irp.Success, io.Status)
	require.EqualValues(t, out.Length, io.Information)
	got := make([]byte, 5)
	_, err := cfReadFull(c, got)
	require.NoError(t, err)
	require.Equal(t, "abcde", string(got))
	closeSocketSync(t, ws)
	finish(t, r)
}

// cfReadFull is io.ReadFull with a deadline: a provider that loses bytes fails the test
// instead of hanging it.
func cfReadFull(c net.Conn, b []byte) (int, error) {
	if err := c.SetReadDeadline(time.Now().Add(waitLimit)); err != nil {
		return 0, err
	}
	n := 0
	for n < len(b) {
		k, err := c.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// TestInvariantStackLocations: invariant 20 at the provider. A call made with an IRP
// that has no stack location left is refused with STATUS_INVALID_PARAMETER and never
// reaches the provider (no socket is created, the socket's state does not change). With
// a one-location IRP the caller's completion routine gets a nil device. The verifier,
// on for this package, would bug-check the zero-location IRP instead: it is turned off
// for this test only.
func TestInvariantStackLocations(t *testing.T) {
	r, npi := newReg(t)

	one := irp.Allocate(1)
	devs := make(chan *irp.Device, 1)
	one.SetCompletionRoutine(func(d *irp.Device, i *irp.IRP, _ any) irp.Status {
		devs <- d
		return irp.MoreProcessingRequired
	}, nil, irp.InvokeAlways)
	require.Equal(t, irp.Success, npi.Dispatch.Socket(npi.Client, AFInet, SockStream, IPProtoTCP, dispatch.ConnectionSocket, nil, nil, one))
	require.Nil(t, <-devs, "a one-location IRP completes to its caller with a nil device")
	ws := one.IoStatus.Object.(*dispatch.Socket)
	one.Free()

	old := irp.SetVerifier(false)
	t.Cleanup(func() { irp.SetVerifier(old) })
	zero := irp.Allocate(0)
	require.Equal(t, irp.InvalidParameter, npi.Dispatch.Socket(npi.Client, AFInet, SockStream, IPProtoTCP, dispatch.ConnectionSocket, nil, nil, zero))
	require.EqualValues(t, 1, r.Stats().SocketsCreated, "the zero-location call created a socket")
	zero2 := irp.Allocate(0)
	require.Equal(t, irp.InvalidParameter, ws.Connection().Bind(ws, netip.AddrPort{}, 0, zero2))
	irp.SetVerifier(old)

	var a netip.AddrPort
	require.Equal(t, irp.InvalidDeviceState, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Connection().GetLocalAddress(ws, &a, i)
	}).Status, "the refused Bind reached the provider")
	closeSocketSync(t, ws)
	finish(t, r)
}

// TestInvariantStickyErrors: a terminal error is reported by every later I/O call, not
// once as Linux reports a reset, and a later event (EOF, a second abort) never replaces
// it. One row per cause; each member is called twice. The peer's view and the reset
// count are checked at close.
func TestInvariantStickyErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cause     func(t *testing.T, ws *dispatch.Socket, c net.Conn)
		want      irp.Status
		peerReset bool   // the peer sees a reset caused by us
		resets    uint64 // Stats.ResetsSent at the end
	}{
		{"peer reset", func(t *testing.T, ws *dispatch.Socket, c net.Conn) {
			p := recv(t, ws, make([]byte, 4), 0)
			require.NoError(t, c.(*net.TCPConn).SetLinger(0))
			require.NoError(t, c.Close())
			require.Equal(t, irp.ConnectionReset, p.wait().Status)
		}, irp.ConnectionReset, false, 0},
		{"local abortive disconnect", func(t *testing.T, ws *dispatch.Socket, _ net.Conn) {
			require.Equal(t, irp.Success, disconnect(t, ws, nil, dispatch.FlagAbortive).wait().Status)
		}, irp.ConnectionAborted, true, 1},
		{"callback panic", func(t *testing.T, ws *dispatch.Socket, _ net.Conn) {
			require.True(t, sockOf(ws).invokeCallback("test", func() { panic("sticky") }))
		}, irp.ConnectionAborted, true, 1},
		{"abort after the peer's FIN", func(t *testing.T, ws *dispatch.Socket, c net.Conn) {
			require.NoError(t, c.(*net.TCPConn).CloseWrite())
			io := recv(t, ws, make([]byte, 4), 0).wait()
			require.Equal(t, irp.Success, io.Status)
			require.Zero(t, io.Information, "EOF")
			require.Equal(t, irp.Success, disconnect(t, ws, nil, dispatch.FlagAbortive).wait().Status)
		}, irp.ConnectionAborted, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, npi := newReg(t)
			ws, c := connect(t, npi)
			tc.cause(t, ws, c)
			for range 2 {
				require.Equal(t, tc.want, send(t, ws, []byte("x")).wait().Status, "Send")
				require.Equal(t, tc.want, recv(t, ws, make([]byte, 4), 0).wait().Status, "Receive")
				require.Equal(t, tc.want, recv(t, ws, nil, 0).wait().Status, "zero-length Receive")
				require.Equal(t, tc.want, recv(t, ws, make([]byte, 4), dispatch.FlagWaitAll).wait().Status, "WAITALL Receive")
				require.Equal(t, tc.want, recv(t, ws, nil, dispatch.FlagDrain).wait().Status, "DRAIN Receive")
				require.Equal(t, tc.want, disconnect(t, ws, nil, 0).wait().Status, "graceful Disconnect")
				require.Equal(t, tc.want, disconnect(t, ws, nil, dispatch.FlagAbortive).wait().Status, "abortive Disconnect")
				require.Equal(t, tc.want, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
					return ws.Connection().Connect(ws, netip.MustParseAddrPort("127.0.0.1:9"), 0, i)
				}).Status, "Connect")
			}
			closeSocketSync(t, ws)
			if tc.peerReset {
				require.True(t, readAll(t, c).reset, "the peer saw a reset")
			}
			finish(t, r)
			require.Equal(t, tc.resets, r.Stats().ResetsSent, "one reset at most, even with a later close")
		})
	}
}

// TestInvariantStickyAfterCancelledConnect: cancelling a connect in progress leaves the
// socket aborted (the kernel's connect cannot be taken back): the IRP completes with
// STATUS_CANCELLED and every later call fails with STATUS_CONNECTION_ABORTED.
func TestInvariantStickyAfterCancelledConnect(t *testing.T) {
	requireFixture(t, fixStuckConnect)
	r, npi := newReg(t)
	addr := stuckConnectTarget(t, "tcp4")
	ws := newConnSocket(t, npi, AFInet)
	c := ws.Connection()
	require.Equal(t, irp.Success, do(t, 1, func(i *irp.IRP) irp.Status { return c.Bind(ws, netip.AddrPort{}, 0, i) }).Status)
	p := start(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return c.Connect(ws, addr, 0, i) })
	require.Equal(t, irp.Pending, p.ret)
	p.i.Cancel()
	require.Equal(t, irp.Cancelled, p.wait().Status)
	for range 2 {
		require.Equal(t, irp.ConnectionAborted, do(t, 1, func(i *irp.IRP) irp.Status { return c.Connect(ws, addr, 0, i) }).Status)
		require.Equal(t, irp.ConnectionAborted, send(t, ws, []byte("x")).wait().Status)
		require.Equal(t, irp.ConnectionAborted, recv(t, ws, make([]byte, 1), 0).wait().Status)
	}
	closeSocketSync(t, ws)
	finish(t, r)
	require.Zero(t, r.Stats().ResetsSent)
}

// TestInvariantLimits: every bound of Limits is STATUS_INSUFFICIENT_RESOURCES with the
// IRP completed, counted, and the socket stays usable once the load is gone.
func TestInvariantLimits(t *testing.T) {
	t.Run("pending total", func(t *testing.T) {
		r, npi := newReg(t, WithLimits(Limits{MaxPendingTotal: 3}))
		a, ca := connect(t, npi)
		b, _ := connect(t, npi)
		a1 := recv(t, a, make([]byte, 4), 0)
		a2 := recv(t, a, make([]byte, 4), 0)
		b1 := recv(t, b, make([]byte, 4), 0)
		for _, p := range []*pcall{a1, a2, b1} {
			require.Equal(t, irp.Pending, p.ret)
		}
		require.Equal(t, irp.InsufficientResources, recv(t, b, make([]byte, 4), 0).wait().Status)
		require.Equal(t, irp.InsufficientResources, send(t, a, []byte("x")).wait().Status)
		require.EqualValues(t, 2, r.Stats().LimitRejections)
		// The load goes: a1 completes with data, and a request fits again.
		writePeer(t, ca, "data")
		require.Equal(t, irp.Success, a1.wait().Status)
		require.Equal(t, irp.Success, send(t, a, []byte("x")).wait().Status)
		closeSocketSync(t, a)
		closeSocketSync(t, b)
		require.Equal(t, irp.Cancelled, a2.wait().Status)
		require.Equal(t, irp.Cancelled, b1.wait().Status)
		finish(t, r)
	})
	t.Run("pending total, next request from the routine", func(t *testing.T) {
		// A request that ended no longer counts: its completion routine may submit the
		// next one at once, with MaxPendingTotal 1 (the routine runs before the
		// provider's bookkeeping for it is finished; that bookkeeping must not hold the
		// slot).
		r, npi := newReg(t, WithLimits(Limits{MaxPendingTotal: 1}))
		ws, c := connect(t, npi)
		next := make(chan irp.Status, 1)
		b := dispatch.MakeBuf(make([]byte, 4))
		nb := dispatch.MakeBuf(make([]byte, 4))
		first := irp.Allocate(ws.StackSize())
		second := irp.Allocate(ws.StackSize())
		first.SetCompletionRoutine(func(_ *irp.Device, i *irp.IRP, _ any) irp.Status {
			next <- ws.Connection().Receive(ws, &nb, 0, second)
			return irp.MoreProcessingRequired
		}, nil, irp.InvokeAlways)
		second.SetCompletionRoutine(func(*irp.Device, *irp.IRP, any) irp.Status {
			return irp.MoreProcessingRequired
		}, nil, irp.InvokeAlways)
		require.Equal(t, irp.Pending, ws.Connection().Receive(ws, &b, 0, first))
		writePeer(t, c, "one")
		require.Equal(t, irp.Pending, within(t, next), "the next receive was refused by the ended one")
		require.Equal(t, irp.Success, first.IoStatus.Status)
		closeSocketSync(t, ws)
		require.Equal(t, irp.Cancelled, second.IoStatus.Status)
		first.Free()
		second.Free()
		require.Zero(t, r.Stats().LimitRejections)
		finish(t, r)
	})
	t.Run("queued bytes per socket", func(t *testing.T) {
		r, npi := newReg(t, WithLimits(Limits{MaxQueuedBytesPerSocket: 1 << 20}))
		ws, c := connect(t, npi)
		// The first send is admitted whatever its size (else it could never go); it
		// pends because the peer does not read.
		huge := make([]byte, 8<<20)
		sp := send(t, ws, huge)
		require.Equal(t, irp.Pending, sp.ret)
		require.Equal(t, irp.InsufficientResources, send(t, ws, []byte("x")).wait().Status)
		fin := dispatch.MakeBuf([]byte("fin"))
		require.Equal(t, irp.InsufficientResources, disconnect(t, ws, &fin, 0).wait().Status)
		require.EqualValues(t, 2, r.Stats().LimitRejections)
		// Requests that pin no send bytes are not limited by it.
		rp := recv(t, ws, make([]byte, 4), 0)
		require.Equal(t, irp.Pending, rp.ret, "a receive refused because of queued send bytes")
		// The peer reads everything: the send completes and sends fit again.
		done := make(chan peerResult, 1)
		go func() {
			b := make([]byte, 64<<10)
			n := 0
			for n < len(huge) {
				k, err := c.Read(b)
				n += k
				if err != nil {
					break
				}
			}
			done <- peerResult{data: make([]byte, n)}
		}()
		require.Equal(t, irp.Success, sp.wait().Status)
		require.Len(t, within(t, done).data, len(huge))
		require.Equal(t, irp.Success, send(t, ws, []byte("x")).wait().Status)
		closeSocketSync(t, ws)
		require.Equal(t, irp.Cancelled, rp.wait().Status)
		finish(t, r)
	})
	t.Run("sockets, reached by accept", func(t *testing.T) {
		// MaxSockets 2: the listener and one accepted socket. A further connection
		// cannot be adopted: its Accept IRP fails with INSUFFICIENT_RESOURCES and the
		// peer, whom nobody will serve, is reset rather than left waiting.
		r, npi := newReg(t, WithLimits(Limits{MaxSockets: 2}))
		ls := newListenSock(t, npi, nil, nil)
		addr := bindListen(t, ls)
		a := startAccept(t, ls, nil, nil)
		c1 := lsDial(t, addr)
		io := a.wait()
		require.Equal(t, irp.Success, io.Status)
		first := io.Object.(*dispatch.Socket)
		lsEcho(t, first, c1)

		a = startAccept(t, ls, nil, nil)
		require.True(t, dialSeesReset(t, addr), "the connection over the limit is reset")
		io = a.wait()
		require.Equal(t, irp.InsufficientResources, io.Status)
		require.Nil(t, io.Object)
		require.EqualValues(t, 1, r.Stats().LimitRejections)

		// A slot frees up: accepting works again.
		closeSocketSync(t, first)
		a = startAccept(t, ls, nil, nil)
		c3 := lsDial(t, addr)
		io = a.wait()
		require.Equal(t, irp.Success, io.Status)
		third := io.Object.(*dispatch.Socket)
		lsEcho(t, third, c3)
		closeSocketSync(t, third)
		closeSocketSync(t, ls)
		finish(t, r)
	})
	t.Run("pending per socket and sockets", func(t *testing.T) {
		// TestLimits (socket_test.go) covers MaxPendingPerSocket and MaxSockets; here
		// the defaults: a zero Limits means DefaultLimits.
		require.Equal(t, DefaultLimits, Limits{}.withDefaults())
		require.Equal(t, DefaultLimits, Limits{MaxSockets: -1, MaxPendingTotal: -5}.withDefaults())
		l := Limits{MaxPendingPerSocket: 7}.withDefaults()
		require.Equal(t, 7, l.MaxPendingPerSocket)
		require.Equal(t, DefaultLimits.MaxSockets, l.MaxSockets)
	})
}

// TestInvariantStatsFields: each Stats field moves with the event it counts, the
// snapshot round-trips through encoding/json with every field tagged.
func TestInvariantStatsFields(t *testing.T) {
	r, npi := newReg(t)
	_, st := r.CaptureProviderNPI(dispatch.NoWait)
	require.Equal(t, irp.Success, st)
	require.EqualValues(t, 2, r.Stats().Captures)
	r.ReleaseProviderNPI()
	require.EqualValues(t, 1, r.Stats().Captures)

	ws, c := connect(t, npi)
	base := r.Stats()
	require.EqualValues(t, 1, base.SocketsOpen)
	require.EqualValues(t, 1, base.SocketsCreated)
	require.Zero(t, base.SocketsClosed)
	require.Zero(t, base.IRPsPending)

	require.Equal(t, irp.Success, send(t, ws, []byte("abc")).wait().Status)
	s := r.Stats()
	require.Equal(t, base.IRPsCompleted+1, s.IRPsCompleted, "a synchronous send is one completed IRP")

	p := recv(t, ws, make([]byte, 4), 0)
	require.Equal(t, irp.Pending, p.ret)
	require.EqualValues(t, 1, r.Stats().IRPsPending)
	p.i.Cancel()
	require.Equal(t, irp.Cancelled, p.wait().Status)
	s = r.Stats()
	require.Zero(t, s.IRPsPending)
	require.Equal(t, base.IRPsCompleted+2, s.IRPsCompleted)
	require.Equal(t, base.IRPsCancelled+1, s.IRPsCancelled)

	require.True(t, sockOf(ws).invokeCallback("stats", func() { panic("counted") }))
	s = r.Stats()
	require.EqualValues(t, 1, s.CallbackPanics)
	require.EqualValues(t, 1, s.ResetsSent)
	closeSocketSync(t, ws)
	require.True(t, readAll(t, c).reset)

	ws2, _ := connect(t, npi)
	closeSocketSync(t, ws2) // not disconnected: reset
	s = r.Stats()
	require.EqualValues(t, 2, s.ResetsSent)
	require.EqualValues(t, 2, s.SocketsCreated)
	require.EqualValues(t, 2, s.SocketsClosed)
	require.Zero(t, s.SocketsOpen)
	require.Zero(t, s.LimitRejections)
	require.Zero(t, s.Misuse)
	finish(t, r)
	s = r.Stats()
	require.Zero(t, s.Captures)
	require.Zero(t, s.EnginePanics)
	require.Zero(t, s.DoubleDeregister)
	require.Zero(t, s.UnbalancedRelease)

	// Every field is tagged and appears in the JSON form.
	b, err := json.Marshal(s)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	typ := reflect.TypeFor[Stats]()
	require.Len(t, m, typ.NumField())
	for f := range typ.Fields() {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		require.NotEmpty(t, tag, "Stats.%s has no json tag", f.Name)
		require.Contains(t, m, tag)
	}
	var back Stats
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, s, back)
}

// cfRecordHandler is a slog.Handler that keeps every record.
type cfRecordHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *cfRecordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *cfRecordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.records = append(h.records, r.Clone())
	h.mu.Unlock()
	return nil
}
func (h *cfRecordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *cfRecordHandler) WithGroup(string) slog.Handler      { return h }

func (h *cfRecordHandler) messages() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.records {
		out = append(out, r.Level.String()+" "+r.Message)
	}
	return out
}

// cfMisuseScenario makes the provider log each kind of diagnostic it has: a callback
// panic, an unbalanced release and a second Deregister.
func cfMisuseScenario(t *testing.T, opts ...Option) *Registration {
	t.Helper()
	r, npi := newReg(t, opts...)
	ws, c := connect(t, npi)
	require.True(t, sockOf(ws).invokeCallback("logged", func() { panic("log me") }))
	closeSocketSync(t, ws)
	require.True(t, readAll(t, c).reset)
	finish(t, r)
	r.ReleaseProviderNPI()
	r.Deregister()
	s := r.Stats()
	require.EqualValues(t, 1, s.CallbackPanics)
	require.EqualValues(t, 2, s.Misuse)
	return r
}

// TestInvariantLoggerSilentByDefault: without WithLogger (or with WithLogger(nil)) the
// provider logs nothing, not even to slog.Default, whatever goes wrong; its counters
// still count.
func TestInvariantLoggerSilentByDefault(t *testing.T) {
	h := &cfRecordHandler{}
	old := slog.Default()
	slog.SetDefault(slog.New(h))
	t.Cleanup(func() { slog.SetDefault(old) })
	for _, opts := range [][]Option{nil, {WithLogger(nil)}} {
		r := cfMisuseScenario(t, opts...)
		require.Equal(t, slog.DiscardHandler, r.log.Handler())
	}
	require.Empty(t, h.messages(), "the provider wrote to slog.Default")
}

// TestInvariantLoggerReceivesDiagnostics: WithLogger gets one record per diagnostic:
// the callback panic (Error), the unbalanced release and the second Deregister (Warn).
func TestInvariantLoggerReceivesDiagnostics(t *testing.T) {
	h := &cfRecordHandler{}
	cfMisuseScenario(t, WithLogger(slog.New(h)))
	msgs := h.messages()
	require.Len(t, msgs, 3, "records: %q", msgs)
	joined := strings.Join(msgs, "\n")
	require.Contains(t, joined, "ERROR wsk: event callback panicked")
	require.Contains(t, joined, "WARN wsk: ReleaseProviderNPI without a capture")
	require.Contains(t, joined, "WARN wsk: Deregister called more than once")
}

// TestInvariantConditionalListenerDead: invariant 37 for the inspect event. When a
// conditional-accept listener dies, WskInspectEvent is called once with a NULL
// InspectID, and every later call fails with STATUS_FILE_FORCED_CLOSED until close.
func TestInvariantConditionalListenerDead(t *testing.T) {
	requireFixture(t, fixKillListener)
	r, npi := newReg(t)
	ids := make(chan *dispatch.InspectID, 4)
	cd := &dispatch.ClientListenDispatch{
		InspectEvent: func(_ any, _, _ netip.AddrPort, id *dispatch.InspectID) dispatch.InspectAction {
			ids <- id
			return dispatch.InspectReject
		},
		AbortEvent: func(any, *dispatch.InspectID) irp.Status { return irp.Success },
	}
	ls := newListenSock(t, npi, nil, cd)
	require.Equal(t, irp.Success, setConditional(t, ls))
	bindListen(t, ls)
	// shutdown(2) on a listening socket stops it: accept(2) then fails with EINVAL.
	killListener(t, sockOf(ls).fd)
	a := startAccept(t, ls, nil, nil)
	require.Equal(t, irp.FileForcedClosed, a.wait().Status)
	require.Nil(t, within(t, ids), "a dead conditional listener is told with a NULL InspectID")
	id := dispatch.InspectID{}
	require.Equal(t, irp.FileForcedClosed, inspectComplete(t, ls, id, dispatch.InspectAccept))
	var addr netip.AddrPort
	require.Equal(t, irp.FileForcedClosed, do(t, ls.StackSize(), func(i *irp.IRP) irp.Status {
		return ls.Listen().GetLocalAddress(ls, &addr, i)
	}).Status)
	closeSocketSync(t, ls)
	select {
	case id := <-ids:
		require.Failf(t, "a second inspect event", "%v", id)
	default:
	}
	finish(t, r)
}

// TestInvariantListenerDiesDuringAcceptEvent: invariant 37 when the listener dies while
// an accept callback is running. The NULL-socket accept event cannot run then (accept
// calls are serial); it must come once that callback has returned, and only once.
func TestInvariantListenerDiesDuringAcceptEvent(t *testing.T) {
	requireFixture(t, fixKillListener)
	r, npi := newReg(t)
	offered := make(chan *dispatch.Socket, 4)
	release := make(chan struct{})
	cd := &dispatch.ClientListenDispatch{
		AcceptEvent: func(_ any, _ dispatch.Flags, _, _ netip.AddrPort, s *dispatch.Socket) (irp.Status, any, *dispatch.ClientConnectionDispatch) {
			offered <- s
			if s != nil {
				<-release
				return irp.RequestNotAccepted, nil, nil
			}
			return irp.Success, nil, nil
		},
	}
	ls := newListenSock(t, npi, nil, cd)
	addr := bindListen(t, ls)
	require.Equal(t, irp.Success, lsEnable(t, ls, dispatch.EventAccept))
	c := lsDial(t, addr)
	require.NotNil(t, within(t, offered), "the first connection is offered")
	// The callback is running. The listener dies; an Accept call finds out.
	killListener(t, sockOf(ls).fd)
	require.Equal(t, irp.FileForcedClosed, startAccept(t, ls, nil, nil).wait().Status)
	require.Empty(t, offered, "an accept event started while another was running")
	close(release)
	require.Nil(t, within(t, offered), "the dead listener is told with a NULL socket after the running call")
	require.True(t, readAll(t, c).reset, "the refused connection is reset")
	require.Equal(t, irp.FileForcedClosed, startAccept(t, ls, nil, nil).wait().Status)
	closeSocketSync(t, ls)
	require.Empty(t, offered, "the NULL socket is told once")
	finish(t, r)
}

// TestInvariantRefusedAcceptSocketIsClosed: invariant 36 seen from the socket the
// application was offered. After WskAcceptEvent refuses it (or panics), the provider
// closes it, and a call made through the pointer the application kept is refused with
// STATUS_INVALID_HANDLE, as after an application close (invariant 21). A second
// CloseSocket is refused too: it must not close the descriptor again (by then the number
// may be another socket's) or release the registration reference twice.
func TestInvariantRefusedAcceptSocketIsClosed(t *testing.T) {
	for _, how := range []string{"REQUEST_NOT_ACCEPTED", "panic", "closed by the application, then refused"} {
		t.Run(how, func(t *testing.T) {
			panics := how == "panic"
			r, npi := newReg(t)
			offered := make(chan *dispatch.Socket, 1)
			appClose := make(chan *pcall, 1)
			ls := newListenSock(t, npi, nil, &dispatch.ClientListenDispatch{
				AcceptEvent: func(_ any, _ dispatch.Flags, _, _ netip.AddrPort, s *dispatch.Socket) (irp.Status, any, *dispatch.ClientConnectionDispatch) {
					if s == nil {
						return irp.Success, nil, nil
					}
					offered <- s
					if panics {
						panic("refuse by panicking")
					}
					if how == "closed by the application, then refused" {
						// Closing from a callback is allowed (SPEC.md §3.1); the provider's own
						// close of the refused socket must then not close it again.
						appClose <- start(t, s.StackSize(), func(i *irp.IRP) irp.Status { return s.Basic().CloseSocket(s, i) })
					}
					return irp.RequestNotAccepted, nil, nil
				},
			})
			addr := bindListen(t, ls)
			require.Equal(t, irp.Success, lsEnable(t, ls, dispatch.EventAccept))
			require.True(t, dialSeesReset(t, addr), "the refused connection is reset")
			rej := within(t, offered)
			if how == "closed by the application, then refused" {
				require.Equal(t, irp.Success, within(t, appClose).wait().Status, "the application's close")
			}
			require.Eventually(t, rej.Closing, waitLimit, time.Millisecond, "the refused socket is closed through its guard")
			require.Eventually(t, func() bool { return r.Stats().SocketsClosed == 1 }, waitLimit, time.Millisecond)
			// A new socket may now reuse the refused one's descriptor number.
			ws := newConnSocket(t, npi, AFInet)
			require.Equal(t, irp.Success, do(t, 1, func(i *irp.IRP) irp.Status { return ws.Connection().Bind(ws, lsLoopback, 0, i) }).Status)
			for _, m := range cfMembersOf(rej, AFInet) {
				require.Equal(t, irp.InvalidHandle, cfCallMember(t, rej, m), "%s on the refused socket", m.name)
			}
			io := do(t, rej.StackSize(), func(i *irp.IRP) irp.Status { return rej.Basic().CloseSocket(rej, i) })
			require.Equal(t, irp.InvalidHandle, io.Status, "CloseSocket on the refused socket")
			// The new socket is untouched.
			var a netip.AddrPort
			require.Equal(t, irp.Success, do(t, 1, func(i *irp.IRP) irp.Status { return ws.Connection().GetLocalAddress(ws, &a, i) }).Status)
			require.Equal(t, "127.0.0.1", a.Addr().String())
			closeSocketSync(t, ws)
			closeSocketSync(t, ls)
			finish(t, r)
			s := r.Stats()
			require.EqualValues(t, 3, s.SocketsClosed)
			if panics {
				require.EqualValues(t, 1, s.CallbackPanics)
			}
		})
	}
}

// TestInvariantTypedNilClientTables: bad input never panics. Go code that passes a nil
// *dispatch.ClientXxxDispatch variable hands WskSocket a typed nil inside the interface;
// it means "no table" for every category (a stream socket used to dereference it). With
// no table, enabling events is allowed and nothing is called.
func TestInvariantTypedNilClientTables(t *testing.T) {
	r, npi := newReg(t)
	for _, tc := range []struct {
		cat    dispatch.SocketFlags
		sotype int
		cd     any
		events dispatch.EventMask
	}{
		{dispatch.ConnectionSocket, SockStream, (*dispatch.ClientConnectionDispatch)(nil), 0},
		{dispatch.ListenSocket, SockStream, (*dispatch.ClientListenDispatch)(nil), dispatch.EventAccept},
		{dispatch.DatagramSocket, SockDgram, (*dispatch.ClientDatagramDispatch)(nil), dispatch.EventReceiveFrom},
		{dispatch.StreamSocket, SockStream, (*dispatch.ClientStreamDispatch)(nil), dispatch.EventAccept},
	} {
		io := do(t, 1, func(i *irp.IRP) irp.Status {
			return npi.Dispatch.Socket(npi.Client, AFInet, tc.sotype, 0, tc.cat, "ctx", tc.cd, i)
		})
		require.Equal(t, irp.Success, io.Status, "category %d", tc.cat)
		ws := io.Object.(*dispatch.Socket)
		if tc.events != 0 {
			var bind func(i *irp.IRP) irp.Status
			switch tc.cat {
			case dispatch.ListenSocket:
				bind = func(i *irp.IRP) irp.Status { return ws.Listen().Bind(ws, lsLoopback, 0, i) }
			case dispatch.DatagramSocket:
				bind = func(i *irp.IRP) irp.Status { return ws.Datagram().Bind(ws, lsLoopback, 0, i) }
			case dispatch.StreamSocket:
				bind = func(i *irp.IRP) irp.Status { return ws.Stream().Bind(ws, lsLoopback, 0, i) }
			}
			require.Equal(t, irp.Success, do(t, ws.StackSize(), bind).Status)
			require.Equal(t, irp.Success, lsEnable(t, ws, tc.events), "category %d", tc.cat)
		}
		if tc.cat == dispatch.StreamSocket {
			// Listen, take a connection through Accept: no callback to call, no panic.
			require.Equal(t, irp.Success, streamCall(t, ws, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status { return d.Listen(ws, i) }))
			var la netip.AddrPort
			require.Equal(t, irp.Success, streamCall(t, ws, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
				return d.GetLocalAddress(ws, &la, i)
			}))
			a := startAccept(t, ws, nil, nil)
			c := lsDial(t, la)
			acc := a.wait()
			require.Equal(t, irp.Success, acc.Status)
			lsEcho(t, acc.Object.(*dispatch.Socket), c)
			closeSocketSync(t, acc.Object.(*dispatch.Socket))
		}
		closeSocketSync(t, ws)
	}
	finish(t, r)
	require.Zero(t, r.Stats().CallbackPanics)
	require.Zero(t, r.Stats().EnginePanics)
}

// TestInvariantConnectionStateMachine: random sequences of calls and peer actions
// checked against the state machine of SPEC.md §3.5: LocalGraceful (after a graceful
// Disconnect: sends fail with STATUS_PIPE_DISCONNECTED, a second graceful Disconnect is
// STATUS_INVALID_DEVICE_STATE, receives go on), RemoteGraceful (a receive returned 0
// bytes: receives keep returning 0, sends go on), Aborted (after an abortive Disconnect:
// every call returns the sticky STATUS_CONNECTION_ABORTED). At the end the socket is
// closed, and the peer and Stats.ResetsSent show a clean close only from
// LocalGraceful ∧ RemoteGraceful (invariants 24, 25, 28, 30). GetRemoteAddress works
// in every state but Aborted, fully disconnected included. The seed is fixed, so the
// sequences are the same on every run; every outcome the model allows is seen.
func TestInvariantConnectionStateMachine(t *testing.T) {
	rounds := 60
	if testing.Short() {
		rounds = 30
	}
	rng := rand.New(rand.NewPCG(3, 38))
	seen := map[string]int{}
	for round := range rounds {
		r, npi := newReg(t)
		ws, c := connect(t, npi)
		var localFIN, remoteFIN, peerFIN, aborted bool
		expect := func(name string, got, want irp.Status) {
			t.Helper()
			require.Equal(t, want, got, "round %d: %s", round, name)
			seen[name+" "+got.String()]++
		}
		steps := 4 + rng.IntN(8)
		for range steps {
			switch op := rng.IntN(12); {
			case op == 11: // A receive with nothing to read, cancelled.
				p := recv(t, ws, make([]byte, 1), 0)
				switch {
				case aborted:
					expect("cancelled recv", p.wait().Status, irp.ConnectionAborted)
				case peerFIN:
					io := p.wait()
					expect("cancelled recv", io.Status, irp.Success)
					require.Zero(t, io.Information)
					remoteFIN = true
				default:
					require.Equal(t, irp.Pending, p.ret)
					p.i.Cancel()
					expect("cancelled recv", p.wait().Status, irp.Cancelled)
				}
			case op < 2: // Send one byte; the peer reads it at once.
				st := send(t, ws, []byte("s")).wait().Status
				switch {
				case aborted:
					expect("send", st, irp.ConnectionAborted)
				case localFIN:
					expect("send", st, irp.PipeDisconnected)
				default:
					expect("send", st, irp.Success)
					b := make([]byte, 1)
					_, err := cfReadFull(c, b)
					require.NoError(t, err)
					require.Equal(t, "s", string(b))
				}
			case op < 4: // The peer writes a byte (unless it shut down); we receive.
				if !peerFIN && !aborted {
					writePeer(t, c, "r")
				}
				io := recv(t, ws, make([]byte, 1), 0).wait()
				switch {
				case aborted:
					expect("recv", io.Status, irp.ConnectionAborted)
				case peerFIN:
					expect("recv", io.Status, irp.Success)
					require.Zero(t, io.Information, "after the peer's FIN")
					remoteFIN = true
				default:
					expect("recv", io.Status, irp.Success)
					require.EqualValues(t, 1, io.Information)
				}
			case op < 6: // The peer half-closes.
				if !peerFIN && !aborted {
					require.NoError(t, c.(*net.TCPConn).CloseWrite())
					peerFIN = true
				}
			case op < 8: // Graceful disconnect.
				st := disconnect(t, ws, nil, 0).wait().Status
				switch {
				case aborted:
					expect("graceful disconnect", st, irp.ConnectionAborted)
				case localFIN:
					expect("graceful disconnect", st, irp.InvalidDeviceState)
				default:
					expect("graceful disconnect", st, irp.Success)
					localFIN = true
				}
			case op < 9: // Abortive disconnect (not once both directions are done: nothing to reset).
				if localFIN && remoteFIN && !aborted {
					continue
				}
				st := disconnect(t, ws, nil, dispatch.FlagAbortive).wait().Status
				if aborted {
					expect("abortive disconnect", st, irp.ConnectionAborted)
				} else {
					expect("abortive disconnect", st, irp.Success)
					aborted = true
				}
			default:
				var a netip.AddrPort
				st := do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Connection().GetRemoteAddress(ws, &a, i) }).Status
				switch {
				case aborted:
					expect("GetRemoteAddress", st, irp.ConnectionAborted)
				case localFIN && remoteFIN:
					expect("GetRemoteAddress fully disconnected", st, irp.Success)
					require.Equal(t, c.LocalAddr().String(), a.String())
				default:
					expect("GetRemoteAddress", st, irp.Success)
					require.Equal(t, c.LocalAddr().String(), a.String())
				}
			}
		}
		closeSocketSync(t, ws)
		clean := !aborted && localFIN && remoteFIN
		crossed := peerFIN && localFIN && !remoteFIN && !aborted
		switch {
		case clean:
			res := readAll(t, c)
			require.True(t, res.eof, "round %d: clean close", round)
			require.Zero(t, soError(t, c))
			seen["close clean"]++
		case crossed:
			// Both FINs crossed in the kernel, but the application never read the
			// peer's: unless TCP has finished already (then there is nothing to reset and
			// none is counted), the provider resets. Neither view is checked.
		default:
			res := readAll(t, c)
			if !res.reset {
				// It read our FIN first; the reset shows on its next write.
				require.True(t, res.eof)
				require.NoError(t, writeSeesReset(t, c), "round %d: the peer saw a reset", round)
			}
			seen["close abortive"]++
		}
		finish(t, r)
		if !crossed {
			wantResets := uint64(1)
			if clean {
				wantResets = 0
			}
			require.Equal(t, wantResets, r.Stats().ResetsSent, "round %d", round)
		}
	}
	for _, outcome := range []string{
		"send STATUS_SUCCESS", "send STATUS_PIPE_DISCONNECTED", "send STATUS_CONNECTION_ABORTED",
		"recv STATUS_SUCCESS", "recv STATUS_CONNECTION_ABORTED",
		"cancelled recv STATUS_CANCELLED", "cancelled recv STATUS_CONNECTION_ABORTED",
		"graceful disconnect STATUS_SUCCESS", "graceful disconnect STATUS_INVALID_DEVICE_STATE",
		"graceful disconnect STATUS_CONNECTION_ABORTED",
		"abortive disconnect STATUS_SUCCESS", "abortive disconnect STATUS_CONNECTION_ABORTED",
		"GetRemoteAddress STATUS_SUCCESS", "GetRemoteAddress STATUS_CONNECTION_ABORTED",
		"GetRemoteAddress fully disconnected STATUS_SUCCESS",
		"close clean", "close abortive",
	} {
		require.Positive(t, seen[outcome], "outcome never reached: %s (%v)", outcome, seen)
	}
	t.Logf("outcomes: %v", seen)
}

// TestInvariantConcurrentSendsStayWhole: sends from several goroutines on one socket are
// queued in order and each goes out whole (WSK does not interleave two sends' bytes);
// receives from several goroutines each take a distinct part of the stream. Every IRP
// completes once with its full length; the peer sees every chunk exactly once, intact.
func TestInvariantConcurrentSendsStayWhole(t *testing.T) {
	r, npi := newReg(t)
	ws, c := connect(t, npi)
	const senders, perSender, chunk = 4, 40, 1024
	mkChunk := func(g, n int) []byte {
		b := make([]byte, chunk)
		for k := range b {
			b[k] = byte(g*perSender + n)
		}
		b[0], b[1] = byte(g), byte(n)
		return b
	}
	peerGot := make(chan map[[2]byte]bool, 1)
	go func() {
		seen := map[[2]byte]bool{}
		b := make([]byte, chunk)
		for range senders * perSender {
			if _, err := cfReadFull(c, b); err != nil {
				break
			}
			want := mkChunk(int(b[0]), int(b[1]))
			if !assert.Equal(t, want, b, "a chunk was torn or interleaved") {
				break
			}
			seen[[2]byte{b[0], b[1]}] = true
		}
		peerGot <- seen
	}()
	var wg sync.WaitGroup
	results := make(chan irp.IoStatusBlock, senders*perSender)
	for g := range senders {
		wg.Go(func() {
			for n := range perSender {
				p := send(t, ws, mkChunk(g, n))
				<-p.done
				results <- p.io
				p.i.Free()
			}
		})
	}
	wg.Wait()
	close(results)
	for io := range results {
		require.Equal(t, irp.Success, io.Status)
		require.EqualValues(t, chunk, io.Information)
	}
	require.Len(t, within(t, peerGot), senders*perSender, "every chunk arrived once")

	// Receives from two goroutines, WAITALL of one chunk each: the stream is split among
	// them without loss or duplication.
	const receivers, perReceiver = 2, 20
	go func() {
		for n := range receivers * perReceiver {
			if _, err := c.Write(mkChunk(n%senders, n)); err != nil {
				return
			}
		}
	}()
	var mu sync.Mutex
	got := map[[2]byte]bool{}
	var wg2 sync.WaitGroup
	for range receivers {
		wg2.Go(func() {
			for range perReceiver {
				b := make([]byte, chunk)
				p := recv(t, ws, b, dispatch.FlagWaitAll)
				<-p.done
				st, n := p.io.Status, p.io.Information
				p.i.Free()
				if !assert.Equal(t, irp.Success, st) || !assert.EqualValues(t, chunk, n) {
					return
				}
				mu.Lock()
				got[[2]byte{b[0], b[1]}] = true
				mu.Unlock()
			}
		})
	}
	wg2.Wait()
	require.Len(t, got, receivers*perReceiver, "every chunk received once")
	cfCleanClose(t, ws, c, "")
	finish(t, r)
}

// cfHeadSent returns how many bytes of the oldest queued send of ws are in the kernel.
func cfHeadSent(ws *dispatch.Socket) int {
	s := sockOf(ws)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sendQ.empty() {
		return -1
	}
	return s.sendQ.head().n
}

// cfPeerReadAll reads c in the background until EOF or an error.
func cfPeerReadAll(t *testing.T, c net.Conn) <-chan peerResult {
	ch := make(chan peerResult, 1)
	go func() {
		var r peerResult
		_ = c.SetReadDeadline(time.Now().Add(waitLimit))
		b := make([]byte, 64<<10)
		for {
			n, err := c.Read(b)
			r.data = append(r.data, b[:n]...)
			if err != nil {
				r.reset = isReset(err) || errors.Is(err, io.EOF) && pollsReset(c)
				r.eof = errors.Is(err, io.EOF) && !r.reset
				break
			}
		}
		ch <- r
	}()
	return ch
}

// TestInvariantCancelSend: cancelling a send. One that has not started (queued behind
// another) completes with STATUS_CANCELLED and leaves the stream intact. One of which
// part is already in the kernel cannot be taken back: it completes with
// STATUS_CANCELLED and the connection is aborted (the peer sees RST, later calls fail
// with STATUS_CONNECTION_ABORTED), never a silent torn send followed by the next one.
func TestInvariantCancelSend(t *testing.T) {
	big := bytes.Repeat([]byte("A"), 8<<20)
	t.Run("not started", func(t *testing.T) {
		r, npi := newReg(t)
		ws, c := connect(t, npi)
		first := send(t, ws, big)
		require.Equal(t, irp.Pending, first.ret)
		second := send(t, ws, bytes.Repeat([]byte("B"), 1000))
		require.Equal(t, irp.Pending, second.ret)
		second.i.Cancel()
		require.Equal(t, irp.Cancelled, second.wait().Status)
		peer := cfPeerReadAll(t, c)
		require.Equal(t, irp.Success, first.wait().Status)
		require.Equal(t, irp.Success, send(t, ws, []byte("MARK")).wait().Status)
		require.Equal(t, irp.Success, disconnect(t, ws, nil, 0).wait().Status)
		res := within(t, peer)
		require.True(t, res.eof)
		require.Len(t, res.data, len(big)+4)
		require.Equal(t, "MARK", string(res.data[len(big):]), "the cancelled send left no bytes")
		closeSocketSync(t, ws)
		finish(t, r)
	})
	t.Run("partly sent", func(t *testing.T) {
		r, npi := newReg(t)
		ws, c := connect(t, npi)
		p := send(t, ws, big)
		require.Equal(t, irp.Pending, p.ret)
		sent := cfHeadSent(ws)
		require.Positive(t, sent, "nothing of the send reached the kernel")
		p.i.Cancel()
		require.Equal(t, irp.Cancelled, p.wait().Status)
		require.Equal(t, irp.ConnectionAborted, send(t, ws, []byte("MARK")).wait().Status)
		require.Equal(t, irp.ConnectionAborted, recv(t, ws, make([]byte, 1), 0).wait().Status)
		if !resetAtAbort {
			closeSocketSync(t, ws) // the RST goes out at the close (requireAbortReset)
		}
		res := within(t, cfPeerReadAll(t, c))
		require.True(t, res.reset, "the peer saw a reset, not a torn send")
		require.NotContains(t, string(res.data), "M")
		if resetAtAbort {
			closeSocketSync(t, ws)
		}
		finish(t, r)
		require.EqualValues(t, 1, r.Stats().ResetsSent)
	})
}
