//go:build unix || windows

package wsk

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// The connection-oriented members end to end, on IPv4 and IPv6 loopback, against a
// plain net peer: the peer tells a clean close (read returns io.EOF) from an abortive
// one (ECONNRESET). The IPv4-only tests in conn_test.go, listen_test.go and
// stream_test.go go deeper; these check that nothing is IPv4-specific.

// cfPeer listens with package net on the loopback of fam and hands over the one
// connection it accepts.
func cfPeer(t *testing.T, fam int) (netip.AddrPort, <-chan net.Conn) {
	t.Helper()
	network := "tcp4"
	if fam == AFInet6 {
		network = "tcp6"
	}
	ln, err := net.Listen(network, netip.AddrPortFrom(loopback(fam), 0).String())
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			ch <- c
		}
		close(ch)
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort(), ch
}

func cfAccepted(t *testing.T, ch <-chan net.Conn) net.Conn {
	t.Helper()
	select {
	case c, ok := <-ch:
		require.True(t, ok, "the peer's accept failed")
		t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(waitLimit):
		require.FailNow(t, "the peer accepted nothing")
	}
	return nil
}

func cfDial(t *testing.T, a netip.AddrPort) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", a.String(), waitLimit)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// cfAddrs checks GetLocalAddress/GetRemoteAddress of a connected socket against the
// peer's view of the same connection.
func cfAddrs(t *testing.T, ws *dispatch.Socket, local, remote func(*netip.AddrPort, *irp.IRP) irp.Status, c net.Conn) {
	t.Helper()
	var l, r netip.AddrPort
	require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return local(&l, i) }).Status)
	require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status { return remote(&r, i) }).Status)
	require.Equal(t, c.RemoteAddr().(*net.TCPAddr).AddrPort(), l)
	require.Equal(t, c.LocalAddr().(*net.TCPAddr).AddrPort(), r)
}

// cfCleanClose ends a connection-socket ws cleanly: graceful disconnect with a final
// buffer, the peer reads everything then EOF, the peer half-closes, our receive sees 0
// bytes, GetRemoteAddress still answers, close; the peer's socket holds no error.
func cfCleanClose(t *testing.T, ws *dispatch.Socket, c net.Conn, final string) {
	t.Helper()
	fin := dispatch.MakeBuf([]byte(final))
	require.Equal(t, irp.Success, disconnect(t, ws, &fin, 0).wait().Status)
	res := readAll(t, c)
	require.Equal(t, final, string(res.data))
	require.True(t, res.eof, "the peer saw the FIN")
	require.NoError(t, c.(*net.TCPConn).CloseWrite())
	io := recv(t, ws, make([]byte, 4), 0).wait()
	require.Equal(t, irp.Success, io.Status)
	require.Zero(t, io.Information, "the peer's FIN is a 0-byte receive")
	// Fully disconnected, still not closed: the socket still knows its peer.
	var remote netip.AddrPort
	require.Equal(t, irp.Success, do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Connection().GetRemoteAddress(ws, &remote, i)
	}).Status)
	require.Equal(t, c.LocalAddr().(*net.TCPAddr).AddrPort(), remote)
	closeSocketSync(t, ws)
	require.Zero(t, soError(t, c), "no reset after a close in both directions")
}

// TestConformanceConnectionFamilies: Socket, Bind (wildcard and explicit), Connect or
// ConnectEx with an initial buffer, addresses, Send, Receive (plain and WAITALL),
// graceful Disconnect with a final buffer and a clean close; then a second connection
// closed without disconnecting, which the peer sees as a reset.
func TestConformanceConnectionFamilies(t *testing.T) {
	for _, fam := range cfFamilies(t) {
		for _, ex := range []bool{false, true} {
			name := cfFamName(fam) + "/Connect"
			if ex {
				name = cfFamName(fam) + "/ConnectEx"
			}
			t.Run(name, func(t *testing.T) {
				r, npi := newReg(t)
				addr, accepted := cfPeer(t, fam)
				ws := newConnSocket(t, npi, fam)
				cx := ws.Connection()
				local := netip.AddrPort{} // wildcard of the socket's family
				if ex {
					local = netip.AddrPortFrom(loopback(fam), 0)
				}
				require.Equal(t, irp.Success, do(t, 1, func(i *irp.IRP) irp.Status { return cx.Bind(ws, local, 0, i) }).Status)
				if fam == AFInet {
					// An IPv6 remote on an IPv4 socket is refused before the kernel sees it
					// (an IPv4 remote on an IPv6 socket is v4-mapped instead: documented in
					// sockaddr_linux.go).
					other := netip.AddrPortFrom(netip.IPv6Loopback(), addr.Port())
					require.Equal(t, irp.InvalidParameter, do(t, 1, func(i *irp.IRP) irp.Status { return cx.Connect(ws, other, 0, i) }).Status,
						"a remote of the other family")
				}
				first := dispatch.MakeBuf([]byte("hello "))
				require.Equal(t, irp.Success, do(t, 1, func(i *irp.IRP) irp.Status {
					if ex {
						return cx.ConnectEx(ws, addr, &first, 0, i)
					}
					return cx.Connect(ws, addr, 0, i)
				}).Status)
				c := cfAccepted(t, accepted)
				cfAddrs(t, ws, func(a *netip.AddrPort, i *irp.IRP) irp.Status { return cx.GetLocalAddress(ws, a, i) },
					func(a *netip.AddrPort, i *irp.IRP) irp.Status { return cx.GetRemoteAddress(ws, a, i) }, c)
				if ex {
					got := make([]byte, len("hello "))
					_, err := cfReadFull(c, got)
					require.NoError(t, err)
					require.Equal(t, "hello ", string(got), "ConnectEx's initial buffer")
				}
				require.Equal(t, irp.Success, send(t, ws, []byte("world")).wait().Status)
				got := make([]byte, 5)
				_, err := cfReadFull(c, got)
				require.NoError(t, err)
				require.Equal(t, "world", string(got))
				b := make([]byte, 6)
				p := recv(t, ws, b, dispatch.FlagWaitAll)
				writePeer(t, c, "abc")
				writePeer(t, c, "def")
				io := p.wait()
				require.Equal(t, irp.Success, io.Status)
				require.Equal(t, "abcdef", string(b[:io.Information]))
				cfCleanClose(t, ws, c, "bye")
				require.Zero(t, r.Stats().ResetsSent)

				// A second connection closed while still connected: abortive.
				addr2, accepted2 := cfPeer(t, fam)
				io = do(t, 1, func(i *irp.IRP) irp.Status {
					return npi.Dispatch.SocketConnect(npi.Client, SockStream, IPProtoTCP, netip.AddrPortFrom(loopback(fam), 0), addr2, 0, nil, nil, i)
				})
				require.Equal(t, irp.Success, io.Status)
				ws2 := io.Object.(*dispatch.Socket)
				c2 := cfAccepted(t, accepted2)
				cfAddrs(t, ws2, func(a *netip.AddrPort, i *irp.IRP) irp.Status { return ws2.Connection().GetLocalAddress(ws2, a, i) },
					func(a *netip.AddrPort, i *irp.IRP) irp.Status { return ws2.Connection().GetRemoteAddress(ws2, a, i) }, c2)
				closeSocketSync(t, ws2)
				require.True(t, readAll(t, c2).reset, "close without disconnect resets (invariant 24)")
				finish(t, r)
				require.EqualValues(t, 1, r.Stats().ResetsSent)
			})
		}
	}
}

// TestConformanceListenFamilies: a listen socket on each family: Bind, GetLocalAddress,
// Accept (pending, then completed by a net client) with the local and remote addresses
// filled in; the accepted connection socket closes cleanly after a graceful exchange,
// and a second one, closed while connected, resets its peer.
func TestConformanceListenFamilies(t *testing.T) {
	for _, fam := range cfFamilies(t) {
		t.Run(cfFamName(fam), func(t *testing.T) {
			r, npi := newReg(t)
			ls := cfNewSock(t, npi, dispatch.ListenSocket, fam)
			l := ls.Listen()
			require.Equal(t, irp.Success, do(t, ls.StackSize(), func(i *irp.IRP) irp.Status {
				return l.Bind(ls, netip.AddrPortFrom(loopback(fam), 0), 0, i)
			}).Status)
			var addr netip.AddrPort
			require.Equal(t, irp.Success, do(t, ls.StackSize(), func(i *irp.IRP) irp.Status { return l.GetLocalAddress(ls, &addr, i) }).Status)
			require.Equal(t, loopback(fam), addr.Addr())

			for k, clean := range []bool{true, false} {
				a := startAccept(t, ls, nil, nil)
				if k == 0 {
					require.Equal(t, irp.Pending, a.ret, "no connection queued yet")
				}
				c := cfDial(t, addr)
				io := a.wait()
				require.Equal(t, irp.Success, io.Status)
				ws, ok := io.Object.(*dispatch.Socket)
				require.True(t, ok)
				require.Equal(t, dispatch.ConnectionSocket, ws.Category())
				require.Equal(t, addr, a.local)
				require.Equal(t, c.LocalAddr().(*net.TCPAddr).AddrPort(), a.remote)
				cfAddrs(t, ws, func(p *netip.AddrPort, i *irp.IRP) irp.Status { return ws.Connection().GetLocalAddress(ws, p, i) },
					func(p *netip.AddrPort, i *irp.IRP) irp.Status { return ws.Connection().GetRemoteAddress(ws, p, i) }, c)
				lsEcho(t, ws, c)
				if clean {
					cfCleanClose(t, ws, c, "done")
				} else {
					closeSocketSync(t, ws)
					require.True(t, readAll(t, c).reset)
				}
			}
			closeSocketSync(t, ls)
			finish(t, r)
			require.EqualValues(t, 1, r.Stats().ResetsSent)
		})
	}
}

// TestConformanceStreamFamilies: a stream socket on each family, in both roles: Bind +
// Listen + Accept, and Bind + Connect with Send/Receive/Disconnect through the stream
// table and a clean close.
func TestConformanceStreamFamilies(t *testing.T) {
	for _, fam := range cfFamilies(t) {
		t.Run(cfFamName(fam), func(t *testing.T) {
			r, npi := newReg(t)
			lo := netip.AddrPortFrom(loopback(fam), 0)

			// Listening role.
			ls := cfNewSock(t, npi, dispatch.StreamSocket, fam)
			require.Equal(t, irp.Success, streamCall(t, ls, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status { return d.Bind(ls, lo, 0, i) }))
			require.Equal(t, irp.Success, streamCall(t, ls, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status { return d.Listen(ls, i) }))
			var laddr netip.AddrPort
			require.Equal(t, irp.Success, streamCall(t, ls, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
				return d.GetLocalAddress(ls, &laddr, i)
			}))
			a := startAccept(t, ls, nil, nil)
			c := cfDial(t, laddr)
			io := a.wait()
			require.Equal(t, irp.Success, io.Status)
			acc := io.Object.(*dispatch.Socket)
			lsEcho(t, acc, c)
			cfCleanClose(t, acc, c, "s")

			// Connecting role, driven through the stream table.
			addr, accepted := cfPeer(t, fam)
			cs := cfNewSock(t, npi, dispatch.StreamSocket, fam)
			require.Equal(t, irp.Success, streamCall(t, cs, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status { return d.Bind(cs, lo, 0, i) }))
			first := dispatch.MakeBuf([]byte("1st"))
			require.Equal(t, irp.Success, streamCall(t, cs, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
				return d.ConnectEx(cs, addr, &first, 0, i)
			}))
			pc := cfAccepted(t, accepted)
			st := cs.Stream()
			cfAddrs(t, cs, func(p *netip.AddrPort, i *irp.IRP) irp.Status { return st.GetLocalAddress(cs, p, i) },
				func(p *netip.AddrPort, i *irp.IRP) irp.Status { return st.GetRemoteAddress(cs, p, i) }, pc)
			out := dispatch.MakeBuf([]byte("+2nd"))
			require.Equal(t, irp.Success, streamCall(t, cs, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status { return d.Send(cs, &out, 0, i) }))
			writePeer(t, pc, "reply")
			in := make([]byte, 5)
			inb := dispatch.MakeBuf(in)
			require.Equal(t, irp.Success, streamCall(t, cs, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status {
				return d.Receive(cs, &inb, dispatch.FlagWaitAll, i)
			}))
			require.Equal(t, "reply", string(in))
			require.Equal(t, irp.Success, streamCall(t, cs, func(d *dispatch.StreamDispatch, i *irp.IRP) irp.Status { return d.Disconnect(cs, nil, 0, i) }))
			res := readAll(t, pc)
			require.Equal(t, "1st+2nd", string(res.data))
			require.True(t, res.eof)
			require.NoError(t, pc.(*net.TCPConn).CloseWrite())
			zero := dispatch.MakeBuf(make([]byte, 1))
			io = do(t, cs.StackSize(), func(i *irp.IRP) irp.Status { return st.Receive(cs, &zero, 0, i) })
			require.Equal(t, irp.Success, io.Status)
			require.Zero(t, io.Information)
			closeSocketSync(t, cs)
			require.Zero(t, soError(t, pc))

			closeSocketSync(t, ls)
			finish(t, r)
			require.Zero(t, r.Stats().ResetsSent)
		})
	}
}
