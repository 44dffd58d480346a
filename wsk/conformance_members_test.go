//go:build unix || windows

package wsk

import (
	"net"
	"net/netip"
	"reflect"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// Conformance of every member of every socket category's provider table (reference
// SPEC.md §2.4, §2.6): the statuses a member returns in each state of the socket, for IPv4 and
// IPv6, with the IRP contract (invariants 9-11) checked on every call by start/do.

// cfFamilies lists the WSK address cfFamilies to run a conformance table on: IPv6 only
// when the host has a ::1 loopback.
func cfFamilies(t *testing.T) []int {
	t.Helper()
	if cfSupportsIPv6() {
		return []int{AFInet, AFInet6}
	}
	t.Log("no IPv6 loopback: the AF_INET6 cases are skipped")
	return []int{AFInet}
}

var (
	cfIPv6Once sync.Once
	cfIPv6OK   bool
)

// cfSupportsIPv6 reports whether a TCP socket can listen on [::1] (nettest.SupportsIPv6
// without the dependency).
func cfSupportsIPv6() bool {
	cfIPv6Once.Do(func() {
		ln, err := net.Listen("tcp6", "[::1]:0")
		if err == nil {
			cfIPv6OK = true
			ln.Close()
		}
	})
	return cfIPv6OK
}

func cfFamName(fam int) string {
	if fam == AFInet6 {
		return "ipv6"
	}
	return "ipv4"
}

// cfMember is one provider-table member called with canonical arguments. noIRP members
// (Release, ControlSocket without an IRP) are called without one.
type cfMember struct {
	name  string
	noIRP bool
	call  func(i *irp.IRP) irp.Status
}

// cfMembersOf lists every member of ws's table except CloseSocket, with arguments valid
// for family fam (the remote is the discard port on loopback: never connected to, the
// calls are refused before that).
func cfMembersOf(ws *dispatch.Socket, fam int) []cfMember {
	remote := netip.AddrPortFrom(loopback(fam), 9)
	local := netip.AddrPortFrom(loopback(fam), 0)
	var addr netip.AddrPort
	data := dispatch.MakeBuf([]byte("x"))
	rbuf := dispatch.MakeBuf(make([]byte, 4))
	id := dispatch.InspectID{}
	ms := []cfMember{
		{"ControlSocket", false, func(i *irp.IRP) irp.Status {
			out := make([]byte, 4)
			var n int
			return ws.Basic().ControlSocket(ws, dispatch.GetOption, SORcvBuf, dispatch.SOLSocket, nil, out, &n, i)
		}},
		{"ControlSocket(no IRP)", true, func(*irp.IRP) irp.Status {
			out := make([]byte, 4)
			var n int
			return ws.Basic().ControlSocket(ws, dispatch.GetOption, SORcvBuf, dispatch.SOLSocket, nil, out, &n, nil)
		}},
	}
	add := func(name string, f func(i *irp.IRP) irp.Status) { ms = append(ms, cfMember{name: name, call: f}) }
	addNoIRP := func(name string, f func() irp.Status) {
		ms = append(ms, cfMember{name: name, noIRP: true, call: func(*irp.IRP) irp.Status { return f() }})
	}
	switch ws.Category() {
	case dispatch.ListenSocket:
		l := ws.Listen()
		add("Bind", func(i *irp.IRP) irp.Status { return l.Bind(ws, local, 0, i) })
		add("Accept", func(i *irp.IRP) irp.Status { return l.Accept(ws, 0, nil, nil, &addr, &addr, i) })
		add("InspectComplete", func(i *irp.IRP) irp.Status { return l.InspectComplete(ws, &id, dispatch.InspectAccept, i) })
		add("GetLocalAddress", func(i *irp.IRP) irp.Status { return l.GetLocalAddress(ws, &addr, i) })
	case dispatch.DatagramSocket:
		d := ws.Datagram()
		var ctlLen int
		var ctlFlags uint32
		add("Bind", func(i *irp.IRP) irp.Status { return d.Bind(ws, local, 0, i) })
		add("SendTo", func(i *irp.IRP) irp.Status { return d.SendTo(ws, &data, 0, &remote, nil, i) })
		add("ReceiveFrom", func(i *irp.IRP) irp.Status {
			return d.ReceiveFrom(ws, &rbuf, 0, &addr, nil, &ctlLen, &ctlFlags, i)
		})
		addNoIRP("Release", func() irp.Status { return d.Release(ws, &dispatch.DatagramIndication{}) })
		add("GetLocalAddress", func(i *irp.IRP) irp.Status { return d.GetLocalAddress(ws, &addr, i) })
		add("SendMessages", func(i *irp.IRP) irp.Status {
			return d.SendMessages(ws, &dispatch.BufList{Buffer: data}, 0, &remote, nil, i)
		})
	case dispatch.ConnectionSocket:
		c := ws.Connection()
		add("Bind", func(i *irp.IRP) irp.Status { return c.Bind(ws, local, 0, i) })
		add("Connect", func(i *irp.IRP) irp.Status { return c.Connect(ws, remote, 0, i) })
		add("GetLocalAddress", func(i *irp.IRP) irp.Status { return c.GetLocalAddress(ws, &addr, i) })
		add("GetRemoteAddress", func(i *irp.IRP) irp.Status { return c.GetRemoteAddress(ws, &addr, i) })
		add("Send", func(i *irp.IRP) irp.Status { return c.Send(ws, &data, 0, i) })
		add("Receive", func(i *irp.IRP) irp.Status { return c.Receive(ws, &rbuf, 0, i) })
		add("Disconnect", func(i *irp.IRP) irp.Status { return c.Disconnect(ws, nil, 0, i) })
		add("Disconnect(abortive)", func(i *irp.IRP) irp.Status { return c.Disconnect(ws, nil, dispatch.FlagAbortive, i) })
		addNoIRP("Release", func() irp.Status { return c.Release(ws, &dispatch.DataIndication{}) })
		add("ConnectEx", func(i *irp.IRP) irp.Status { return c.ConnectEx(ws, remote, &data, 0, i) })
		add("SendEx", func(i *irp.IRP) irp.Status { return c.SendEx(ws, i) })
		add("ReceiveEx", func(i *irp.IRP) irp.Status { return c.ReceiveEx(ws, i) })
	case dispatch.StreamSocket:
		s := ws.Stream()
		add("Bind", func(i *irp.IRP) irp.Status { return s.Bind(ws, local, 0, i) })
		add("Accept", func(i *irp.IRP) irp.Status { return s.Accept(ws, 0, nil, nil, &addr, &addr, i) })
		add("Connect", func(i *irp.IRP) irp.Status { return s.Connect(ws, remote, 0, i) })
		add("Listen", func(i *irp.IRP) irp.Status { return s.Listen(ws, i) })
		add("Send", func(i *irp.IRP) irp.Status { return s.Send(ws, &data, 0, i) })
		add("Receive", func(i *irp.IRP) irp.Status { return s.Receive(ws, &rbuf, 0, i) })
		add("Disconnect", func(i *irp.IRP) irp.Status { return s.Disconnect(ws, nil, 0, i) })
		add("Disconnect(abortive)", func(i *irp.IRP) irp.Status { return s.Disconnect(ws, nil, dispatch.FlagAbortive, i) })
		addNoIRP("Release", func() irp.Status { return s.Release(ws, &dispatch.DataIndication{}) })
		add("GetLocalAddress", func(i *irp.IRP) irp.Status { return s.GetLocalAddress(ws, &addr, i) })
		add("GetRemoteAddress", func(i *irp.IRP) irp.Status { return s.GetRemoteAddress(ws, &addr, i) })
		add("ConnectEx", func(i *irp.IRP) irp.Status { return s.ConnectEx(ws, remote, &data, 0, i) })
		add("SendEx", func(i *irp.IRP) irp.Status { return s.SendEx(ws, i) })
		add("ReceiveEx", func(i *irp.IRP) irp.Status { return s.ReceiveEx(ws, i) })
	}
	return ms
}

// cfCallMember calls m on ws and returns its status; with an IRP, the IRP contract is
// checked and the call must not pend (every case in these tables completes at once).
func cfCallMember(t *testing.T, ws *dispatch.Socket, m cfMember) irp.Status {
	t.Helper()
	if m.noIRP {
		return m.call(nil)
	}
	p := start(t, ws.StackSize(), m.call)
	require.NotEqual(t, irp.Pending, p.ret, "%s pended", m.name)
	io := p.wait()
	if io.Status != irp.Success {
		require.Zero(t, io.Information, "%s failed with Information set", m.name)
		require.Nil(t, io.Object, "%s failed with an object", m.name)
	}
	return io.Status
}

// cfNewSock creates a socket of category cat and family fam (no context, no callbacks).
func cfNewSock(t *testing.T, npi ProviderNPI, cat dispatch.SocketFlags, fam int) *dispatch.Socket {
	t.Helper()
	sotype, proto := SockStream, IPProtoTCP
	if cat == dispatch.DatagramSocket {
		sotype, proto = SockDgram, IPProtoUDP
	}
	if cat == dispatch.BasicSocket {
		proto = 0
	}
	io := do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, fam, sotype, proto, cat, nil, nil, i)
	})
	require.Equal(t, irp.Success, io.Status)
	ws, ok := io.Object.(*dispatch.Socket)
	require.True(t, ok, "IoStatus.Object holds the socket (invariant 12)")
	require.Equal(t, cat, ws.Category())
	return ws
}

var cfCategories = []struct {
	name string
	cat  dispatch.SocketFlags
}{
	{"basic", dispatch.BasicSocket},
	{"listen", dispatch.ListenSocket},
	{"connection", dispatch.ConnectionSocket},
	{"datagram", dispatch.DatagramSocket},
	{"stream", dispatch.StreamSocket},
}

// TestConformanceMembersByState: every member of every category in the states
// "created" (not bound) and "bound" (not connected, not listening), IPv4 and IPv6.
// Missing preconditions give STATUS_INVALID_DEVICE_STATE (SPEC.md §2.6: GetLocalAddress needs
// bind, GetRemoteAddress, Send, Receive and Disconnect need a connection, Connect and
// Listen need bind, Accept needs a listening socket); an unknown indication list is
// STATUS_INVALID_PARAMETER; the reserved members STATUS_NOT_SUPPORTED. A member missing
// from an expectation table fails the test, so a new member cannot go unchecked.
func TestConformanceMembersByState(t *testing.T) {
	const ids, ok, inv, nsup = irp.InvalidDeviceState, irp.Success, irp.InvalidParameter, irp.NotSupported
	common := map[string]irp.Status{"ControlSocket": ok, "ControlSocket(no IRP)": ok}
	with := func(m map[string]irp.Status) map[string]irp.Status {
		for k, v := range common {
			m[k] = v
		}
		return m
	}
	// Expected status per category and member before bind; "Bind" is then called and
	// must succeed; then the bound table applies.
	created := map[dispatch.SocketFlags]map[string]irp.Status{
		dispatch.BasicSocket:  with(map[string]irp.Status{}),
		dispatch.ListenSocket: with(map[string]irp.Status{"Accept": ids, "InspectComplete": ids, "GetLocalAddress": ids}),
		dispatch.DatagramSocket: with(map[string]irp.Status{"SendTo": ids, "ReceiveFrom": ids, "Release": inv,
			"GetLocalAddress": ids, "SendMessages": ids}),
		dispatch.ConnectionSocket: with(map[string]irp.Status{"Connect": ids, "GetLocalAddress": ids, "GetRemoteAddress": ids,
			"Send": ids, "Receive": ids, "Disconnect": ids, "Disconnect(abortive)": ids, "Release": inv,
			"ConnectEx": ids, "SendEx": nsup, "ReceiveEx": nsup}),
		dispatch.StreamSocket: with(map[string]irp.Status{"Accept": ids, "Connect": ids, "Listen": ids, "Send": ids,
			"Receive": ids, "Disconnect": ids, "Disconnect(abortive)": ids, "Release": inv, "GetLocalAddress": ids,
			"GetRemoteAddress": ids, "ConnectEx": ids, "SendEx": nsup, "ReceiveEx": nsup}),
	}
	bound := map[dispatch.SocketFlags]map[string]irp.Status{
		// A bound listen socket listens: Accept would pend, so it is left out here
		// (listen_test.go covers it). InspectComplete needs SO_CONDITIONAL_ACCEPT.
		dispatch.ListenSocket:   with(map[string]irp.Status{"Bind": ids, "InspectComplete": ids, "GetLocalAddress": ok}),
		dispatch.DatagramSocket: with(map[string]irp.Status{"Bind": ids, "Release": inv, "GetLocalAddress": ok}),
		dispatch.ConnectionSocket: with(map[string]irp.Status{"Bind": ids, "GetLocalAddress": ok, "GetRemoteAddress": ids,
			"Send": ids, "Receive": ids, "Disconnect": ids, "Disconnect(abortive)": ids, "Release": inv,
			"SendEx": nsup, "ReceiveEx": nsup}),
		dispatch.StreamSocket: with(map[string]irp.Status{"Bind": ids, "Accept": ids, "Send": ids, "Receive": ids,
			"Disconnect": ids, "Disconnect(abortive)": ids, "Release": inv, "GetLocalAddress": ok,
			"GetRemoteAddress": ids, "SendEx": nsup, "ReceiveEx": nsup}),
	}
	r, npi := newReg(t)
	for _, fam := range cfFamilies(t) {
		for _, c := range cfCategories {
			t.Run(cfFamName(fam)+"/"+c.name, func(t *testing.T) {
				ws := cfNewSock(t, npi, c.cat, fam)
				ms := cfMembersOf(ws, fam)
				var bind *cfMember
				for k := range ms {
					m := ms[k]
					if m.name == "Bind" {
						bind = &ms[k]
						continue
					}
					want, listed := created[c.cat][m.name]
					require.True(t, listed, "no expectation for %s before bind", m.name)
					require.Equal(t, want, cfCallMember(t, ws, m), "%s before bind", m.name)
				}
				if bind != nil {
					require.Equal(t, ok, cfCallMember(t, ws, *bind), "Bind")
					for _, m := range ms {
						want, listed := bound[c.cat][m.name]
						if !listed {
							continue // would pend or change the state (Connect, Listen, SendTo...)
						}
						require.Equal(t, want, cfCallMember(t, ws, m), "%s after bind", m.name)
					}
				}
				closeSocketSync(t, ws)
			})
		}
	}
	finish(t, r)
}

// TestConformanceMembersAfterClose: invariant 21 member by member. After CloseSocket
// every member of every category (CloseSocket included) is refused with
// STATUS_INVALID_HANDLE without reaching the provider; a member given an IRP completes
// it with that status. The reserved SendEx/ReceiveEx slots keep their
// STATUS_NOT_SUPPORTED (they never reach a provider in any state).
func TestConformanceMembersAfterClose(t *testing.T) {
	r, npi := newReg(t)
	for _, fam := range cfFamilies(t) {
		for _, c := range cfCategories {
			ws := cfNewSock(t, npi, c.cat, fam)
			closeSocketSync(t, ws)
			for _, m := range cfMembersOf(ws, fam) {
				// The reserved SendEx/ReceiveEx slots too: dispatch's guard answers them
				// with STATUS_NOT_SUPPORTED while open, STATUS_INVALID_HANDLE once closed.
				require.Equal(t, irp.InvalidHandle, cfCallMember(t, ws, m), "%s %s.%s after close", cfFamName(fam), c.name, m.name)
			}
			io := do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Basic().CloseSocket(ws, i) })
			require.Equal(t, irp.InvalidHandle, io.Status, "second CloseSocket")
		}
	}
	finish(t, r)
	require.EqualValues(t, 5*len(cfFamilies(t)), r.Stats().SocketsClosed)
}

// TestConformanceProviderTables: invariant 7 from the provider's side. Each category's
// inner table implements every member of SPEC.md §2.4 (only the reserved SendEx/ReceiveEx slots
// stay nil, answered by dispatch's guard), and a socket of each category is reachable
// through exactly one typed view plus the basic view.
func TestConformanceProviderTables(t *testing.T) {
	reserved := map[string]bool{"SendEx": true, "ReceiveEx": true}
	var check func(name string, v reflect.Value)
	check = func(name string, v reflect.Value) {
		for k := range v.NumField() {
			f, fv := v.Type().Field(k), v.Field(k)
			if f.Anonymous {
				check(name, fv)
				continue
			}
			if fv.Kind() != reflect.Func {
				continue
			}
			if reserved[f.Name] {
				require.True(t, fv.IsNil(), "%s.%s is reserved: the guard answers it", name, f.Name)
				continue
			}
			require.False(t, fv.IsNil(), "%s.%s is not implemented", name, f.Name)
		}
	}
	for name, table := range map[string]any{
		"basicTable": basicTable, "listenTable": listenTable, "connectionTable": connectionTable,
		"datagramTable": datagramTable, "streamTable": streamTable,
	} {
		check(name, reflect.ValueOf(table))
	}

	r, npi := newReg(t)
	for _, c := range cfCategories {
		ws := cfNewSock(t, npi, c.cat, AFInet)
		require.NotNil(t, ws.Basic(), c.name)
		views := map[dispatch.SocketFlags]bool{
			dispatch.ListenSocket:     ws.Listen() != nil,
			dispatch.ConnectionSocket: ws.Connection() != nil,
			dispatch.DatagramSocket:   ws.Datagram() != nil,
			dispatch.StreamSocket:     ws.Stream() != nil,
		}
		for cat, has := range views {
			require.Equal(t, cat == c.cat, has, "%s socket: view of category %d", c.name, cat)
		}
		closeSocketSync(t, ws)
	}
	finish(t, r)
}

// TestConformanceNewSocketsStartDisabled: invariant 8 for every way a socket is made.
// Sockets from WskSocket (every category, with a client table given) and from
// WskSocketConnect start with every event callback disabled.
func TestConformanceNewSocketsStartDisabled(t *testing.T) {
	r, npi := newReg(t)
	tables := map[dispatch.SocketFlags]any{
		dispatch.ListenSocket:     &dispatch.ClientListenDispatch{},
		dispatch.ConnectionSocket: &dispatch.ClientConnectionDispatch{},
		dispatch.DatagramSocket:   &dispatch.ClientDatagramDispatch{},
		dispatch.StreamSocket:     &dispatch.ClientStreamDispatch{},
	}
	for _, c := range cfCategories {
		sotype := SockStream
		if c.cat == dispatch.DatagramSocket {
			sotype = SockDgram
		}
		io := do(t, 1, func(i *irp.IRP) irp.Status {
			return npi.Dispatch.Socket(npi.Client, AFInet, sotype, 0, c.cat, nil, tables[c.cat], i)
		})
		require.Equal(t, irp.Success, io.Status, c.name)
		ws := io.Object.(*dispatch.Socket)
		require.Zero(t, eventsOfSock(ws), "%s socket starts with callbacks enabled", c.name)
		closeSocketSync(t, ws)
	}
	p := newPeer(t)
	io := do(t, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.SocketConnect(npi.Client, SockStream, IPProtoTCP, netip.AddrPort{}, p.addr(), 0, nil,
			&dispatch.ClientConnectionDispatch{}, i)
	})
	require.Equal(t, irp.Success, io.Status)
	ws := io.Object.(*dispatch.Socket)
	require.Zero(t, eventsOfSock(ws), "a SocketConnect socket starts with callbacks enabled")
	p.accept(t)
	closeSocketSync(t, ws)
	finish(t, r)
}

// TestConformanceRequestFlags: SPEC.md §2.6 flag rules on a connected socket. Send takes
// WSK_FLAG_NODELAY; WSK_FLAG_OOB and unknown flags are STATUS_NOT_SUPPORTED. Receive
// takes WAITALL or DRAIN, anything else is STATUS_NOT_SUPPORTED. Bind, Connect, ConnectEx
// and Disconnect flags other than the defined ones are STATUS_INVALID_PARAMETER. A
// refused request has no effect: the connection carries exactly the accepted bytes and
// closes cleanly.
func TestConformanceRequestFlags(t *testing.T) {
	r, npi := newReg(t)
	ws, c := connect(t, npi)
	cx := ws.Connection()
	data := dispatch.MakeBuf([]byte("ok"))
	rb := dispatch.MakeBuf(make([]byte, 4))
	remote := netip.MustParseAddrPort("127.0.0.1:9")
	for _, tc := range []struct {
		name string
		call func(i *irp.IRP) irp.Status
		want irp.Status
	}{
		{"Send NODELAY", func(i *irp.IRP) irp.Status { return cx.Send(ws, &data, dispatch.FlagNoDelay, i) }, irp.Success},
		{"Send OOB", func(i *irp.IRP) irp.Status { return cx.Send(ws, &data, dispatch.FlagOOB, i) }, irp.NotSupported},
		{"Send unknown", func(i *irp.IRP) irp.Status { return cx.Send(ws, &data, 0x100, i) }, irp.NotSupported},
		{"Receive unknown", func(i *irp.IRP) irp.Status { return cx.Receive(ws, &rb, 0x100, i) }, irp.NotSupported},
		{"Disconnect unknown", func(i *irp.IRP) irp.Status { return cx.Disconnect(ws, nil, 0x100, i) }, irp.InvalidParameter},
		{"Bind flags", func(i *irp.IRP) irp.Status { return cx.Bind(ws, netip.AddrPort{}, 1, i) }, irp.InvalidParameter},
		{"Connect flags", func(i *irp.IRP) irp.Status { return cx.Connect(ws, remote, 1, i) }, irp.InvalidParameter},
		{"ConnectEx flags", func(i *irp.IRP) irp.Status { return cx.ConnectEx(ws, remote, nil, 1, i) }, irp.InvalidParameter},
		{"Send nil buffer", func(i *irp.IRP) irp.Status { return cx.Send(ws, nil, 0, i) }, irp.InvalidParameter},
		{"Receive nil buffer", func(i *irp.IRP) irp.Status { return cx.Receive(ws, nil, 0, i) }, irp.InvalidParameter},
		{"Send bad buffer", func(i *irp.IRP) irp.Status {
			bad := dispatch.Buf{Length: 3}
			return cx.Send(ws, &bad, 0, i)
		}, irp.InvalidParameter},
		{"Disconnect bad final buffer", func(i *irp.IRP) irp.Status {
			bad := dispatch.Buf{First: []byte("x"), Length: 9}
			return cx.Disconnect(ws, &bad, 0, i)
		}, irp.InvalidParameter},
	} {
		require.Equal(t, tc.want, do(t, ws.StackSize(), tc.call).Status, tc.name)
	}
	got := make([]byte, 2)
	_, err := cfReadFull(c, got)
	require.NoError(t, err)
	require.Equal(t, "ok", string(got), "only the accepted send went out")
	cfCleanClose(t, ws, c, "")
	finish(t, r)
	require.Zero(t, r.Stats().ResetsSent)
}
