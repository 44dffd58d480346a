//go:build unix || windows

package wsk

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// Conformance of WskControlSocket on every category (SPEC.md §2.6, §2.7, §2.9) and
// of the name functions of the client-level table (SPEC.md §2.3).

// TestConformanceControlSocketAllCategories: the option and IOCTL rules, the same for
// every category and family. Each row is tried without an IRP and with one (the IRP is
// optional for options): the status is the same, and with an IRP it is also the IRP's
// final status (checked by do), with Information = output bytes on success.
func TestConformanceControlSocketAllCategories(t *testing.T) {
	u32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	type row struct {
		name       string
		typ        dispatch.ControlType
		code, lvl  uint32
		in         []byte
		outLen     int
		want       irp.Status
		wantOutRet int // checked when want is SUCCESS or BUFFER_OVERFLOW
		tcpOnly    bool
	}
	rows := []row{
		{"get SO_RCVBUF", dispatch.GetOption, SORcvBuf, dispatch.SOLSocket, nil, 4, irp.Success, 4, false},
		{"set SO_SNDBUF", dispatch.SetOption, SOSndBuf, dispatch.SOLSocket, u32(65536), 0, irp.Success, 0, false},
		{"get SO_ERROR", dispatch.GetOption, SOError, dispatch.SOLSocket, nil, 4, irp.Success, 4, false},
		{"set SO_ERROR (read-only)", dispatch.SetOption, SOError, dispatch.SOLSocket, u32(1), 0, irp.NotSupported, 0, false},
		{"set SO_LINGER (never > 0)", dispatch.SetOption, SOLinger, dispatch.SOLSocket, u32(1), 0, irp.NotSupported, 0, false},
		{"unknown option", dispatch.GetOption, 0x7777, dispatch.SOLSocket, nil, 4, irp.NotSupported, 0, false},
		{"short output", dispatch.GetOption, SORcvBuf, dispatch.SOLSocket, nil, 2, irp.BufferOverflow, 4, false},
		{"short input", dispatch.SetOption, SOSndBuf, dispatch.SOLSocket, []byte{1}, 0, irp.InvalidParameter, 0, false},
		{"unknown IOCTL", dispatch.Ioctl, 0x12345678, 0, nil, 8, irp.NotSupported, 0, false},
		{"unknown request type", dispatch.ControlType(99), SORcvBuf, dispatch.SOLSocket, nil, 4, irp.InvalidParameter, 0, false},
		{"set TCP_NODELAY", dispatch.SetOption, TCPNoDelay, IPProtoTCP, u32(1), 0, irp.Success, 0, true},
		{"get TCP_NODELAY", dispatch.GetOption, TCPNoDelay, IPProtoTCP, nil, 4, irp.Success, 4, true},
		{"set SO_KEEPALIVE", dispatch.SetOption, SOKeepAlive, dispatch.SOLSocket, u32(1), 0, irp.Success, 0, true},
	}
	r, npi := newReg(t)
	for _, fam := range cfFamilies(t) {
		for _, c := range cfCategories {
			t.Run(cfFamName(fam)+"/"+c.name, func(t *testing.T) {
				ws := cfNewSock(t, npi, c.cat, fam)
				b := ws.Basic()
				tcp := c.cat != dispatch.DatagramSocket
				for _, rw := range rows {
					if rw.tcpOnly && !tcp {
						continue
					}
					for _, withIRP := range []bool{false, true} {
						out := make([]byte, rw.outLen)
						outRet := -1
						var st irp.Status
						if withIRP {
							io := do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
								return b.ControlSocket(ws, rw.typ, rw.code, rw.lvl, rw.in, out, &outRet, i)
							})
							st = io.Status
							if st == irp.Success {
								require.EqualValues(t, rw.wantOutRet, io.Information, "%s: Information", rw.name)
							}
						} else {
							st = b.ControlSocket(ws, rw.typ, rw.code, rw.lvl, rw.in, out, &outRet, nil)
						}
						require.Equal(t, rw.want, st, "%s (IRP %v)", rw.name, withIRP)
						if st == irp.Success || st == irp.BufferOverflow {
							require.Equal(t, rw.wantOutRet, outRet, "%s: *OutputSizeReturned", rw.name)
						}
					}
				}
				// The value set is the value read (Winsock numbers, not Linux's double).
				out := make([]byte, 4)
				var n int
				require.Equal(t, irp.Success, b.ControlSocket(ws, dispatch.GetOption, SOSndBuf, dispatch.SOLSocket, nil, out, &n, nil))
				require.EqualValues(t, 65536, binary.LittleEndian.Uint32(out))

				// The backlog IOCTLs need a connected socket and an IRP (SPEC.md §2.9).
				for _, code := range []uint32{dispatch.SIOWskQueryReceiveBacklog, dispatch.SIOWskQueryIdealSendBacklog} {
					out8 := make([]byte, 8)
					require.Equal(t, irp.InvalidParameter, b.ControlSocket(ws, dispatch.Ioctl, code, 0, nil, out8, &n, nil))
					require.Equal(t, irp.InvalidDeviceState, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
						return b.ControlSocket(ws, dispatch.Ioctl, code, 0, nil, out8, &n, i)
					}).Status)
				}
				// SO_WSK_EVENT_CALLBACK: a basic socket has no events; the others refuse
				// to enable before bind (or connect).
				in := dispatch.EventCallbackControl{NpiID: dispatch.NPIWskInterfaceID, EventMask: eventsOf(c.cat)}.Marshal()
				st := b.ControlSocket(ws, dispatch.SetOption, dispatch.SOWskEventCallback, dispatch.SOLSocket, in, nil, nil, nil)
				if c.cat == dispatch.BasicSocket {
					require.Equal(t, irp.InvalidParameter, st)
				} else {
					require.Equal(t, irp.InvalidDeviceState, st)
				}
				closeSocketSync(t, ws)
			})
		}
	}
	finish(t, r)
}

// TestConformanceBacklogQueriesConnected: on a connected socket of each family,
// SIO_WSK_QUERY_RECEIVE_BACKLOG counts the bytes waiting and
// SIO_WSK_QUERY_IDEAL_SEND_BACKLOG is the send buffer; a short output buffer is
// STATUS_BUFFER_OVERFLOW with the size needed.
func TestConformanceBacklogQueriesConnected(t *testing.T) {
	for _, fam := range cfFamilies(t) {
		t.Run(cfFamName(fam), func(t *testing.T) {
			r, npi := newReg(t)
			addr, accepted := cfPeer(t, fam)
			io := do(t, 1, func(i *irp.IRP) irp.Status {
				return npi.Dispatch.SocketConnect(npi.Client, SockStream, IPProtoTCP, netip.AddrPort{}, addr, 0, nil, nil, i)
			})
			require.Equal(t, irp.Success, io.Status)
			ws := io.Object.(*dispatch.Socket)
			c := cfAccepted(t, accepted)
			b := ws.Basic()
			query := func(code uint32, out []byte, n *int) irp.IoStatusBlock {
				return do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
					return b.ControlSocket(ws, dispatch.Ioctl, code, 0, nil, out, n, i)
				})
			}
			out := make([]byte, 8)
			var n int
			io = query(dispatch.SIOWskQueryReceiveBacklog, out, &n)
			require.Equal(t, irp.Success, io.Status)
			require.Zero(t, binary.LittleEndian.Uint64(out))
			writePeer(t, c, "12345")
			// A zero-length receive completes once the bytes are there (taking none).
			require.Equal(t, irp.Success, recv(t, ws, nil, 0).wait().Status)
			io = query(dispatch.SIOWskQueryReceiveBacklog, out, &n)
			require.Equal(t, irp.Success, io.Status)
			require.EqualValues(t, 8, io.Information)
			require.EqualValues(t, 8, n)
			require.EqualValues(t, 5, binary.LittleEndian.Uint64(out))

			set := binary.LittleEndian.AppendUint32(nil, 65536)
			require.Equal(t, irp.Success, b.ControlSocket(ws, dispatch.SetOption, SOSndBuf, dispatch.SOLSocket, set, nil, nil, nil))
			io = query(dispatch.SIOWskQueryIdealSendBacklog, out, &n)
			require.Equal(t, irp.Success, io.Status)
			require.EqualValues(t, 65536, binary.LittleEndian.Uint64(out))

			io = query(dispatch.SIOWskQueryReceiveBacklog, out[:4], &n)
			require.Equal(t, irp.BufferOverflow, io.Status)
			require.Equal(t, 8, n)
			require.Equal(t, "12345", string(recvData(t, ws, 8)))
			closeSocketSync(t, ws)
			require.True(t, readAll(t, c).reset)
			finish(t, r)
		})
	}
}

// TestConformanceNameFunctions: WskGetAddressInfo / WskFreeAddressInfo /
// WskGetNameInfo without the network (literal addresses, numeric services): family
// hints, the NO_MATCH and INVALID_PARAMETER cases, IPv6, and the client-control IRP
// rules.
func TestConformanceNameFunctions(t *testing.T) {
	r, npi := newReg(t)
	d, c := npi.Dispatch, npi.Client
	gai := func(node, service string, hints *dispatch.AddrInfo, res **dispatch.AddrInfo) irp.Status {
		return do(t, 1, func(i *irp.IRP) irp.Status { return d.GetAddressInfo(c, node, service, 0, hints, res, i) }).Status
	}
	for _, tc := range []struct {
		node, service string
		hint          int
		want          irp.Status
		wantAddr      string
		wantFamily    int
	}{
		{"::1", "443", 0, irp.Success, "[::1]:443", AFInet6},
		{"::1", "443", AFInet6, irp.Success, "[::1]:443", AFInet6},
		{"127.0.0.1", "8080", AFInet, irp.Success, "127.0.0.1:8080", AFInet},
		{"127.0.0.1", "", 0, irp.Success, "127.0.0.1:0", AFInet},
		{"::1", "80", AFInet, irp.NoMatch, "", 0},
		{"127.0.0.1", "80", AFInet6, irp.NoMatch, "", 0},
	} {
		var res *dispatch.AddrInfo
		st := gai(tc.node, tc.service, &dispatch.AddrInfo{Family: tc.hint, SocketType: SockStream, Protocol: IPProtoTCP}, &res)
		require.Equal(t, tc.want, st, "%s %s hint %d", tc.node, tc.service, tc.hint)
		if st != irp.Success {
			require.Nil(t, res)
			continue
		}
		require.NotNil(t, res)
		require.Equal(t, tc.wantAddr, res.Addr.String())
		require.Equal(t, tc.wantFamily, res.Family)
		require.Equal(t, SockStream, res.SocketType, "hints carry over")
		require.Nil(t, res.Next)
		d.FreeAddressInfo(c, res)
	}
	var res *dispatch.AddrInfo
	require.Equal(t, irp.InvalidParameter, gai("", "", nil, &res), "neither node nor service")
	require.Equal(t, irp.InvalidParameter, gai("127.0.0.1", "80", nil, nil), "no result pointer")
	require.Equal(t, irp.InvalidParameter, d.GetAddressInfo(c, "127.0.0.1", "80", 0, nil, &res, nil), "no IRP")

	var node, service string
	io := do(t, 1, func(i *irp.IRP) irp.Status {
		return d.GetNameInfo(c, netip.MustParseAddrPort("[::1]:8443"), &node, &service, dispatch.NINumericHost, i)
	})
	require.Equal(t, irp.Success, io.Status)
	require.Equal(t, "::1", node)
	require.Equal(t, "8443", service)
	service = ""
	io = do(t, 1, func(i *irp.IRP) irp.Status {
		return d.GetNameInfo(c, netip.MustParseAddrPort("127.0.0.1:7"), nil, &service, 0, i)
	})
	require.Equal(t, irp.Success, io.Status, "service only")
	require.Equal(t, "7", service)
	require.Equal(t, irp.InvalidParameter, do(t, 1, func(i *irp.IRP) irp.Status {
		return d.GetNameInfo(c, netip.AddrPort{}, &node, nil, 0, i)
	}).Status, "invalid address")

	// Client control codes: LIST_CHANGE needs an IRP, LIST_QUERY forbids one (SPEC.md §2.3).
	require.Equal(t, irp.InvalidParameter, d.ControlClient(c, dispatch.TransportListChange, nil, nil, nil, nil))
	finish(t, r)
	require.Zero(t, r.Stats().IRPsPending)
}
