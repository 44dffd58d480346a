//go:build linux

package wsk

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// The reset matrix (TESTING.md case 29: a close resets unless both directions were shut) and its
// neighbours (cases 23, 28, 30, 35), checked twice: by what the net peer observes, and, inside a
// private network namespace, by the kernel's own counters — Tcp OutRsts (RST segments sent) and
// TcpExt TCPAbortOn* — which no amount of library bookkeeping can fake. Where the namespace is
// available each row also checks that every RST the kernel sent for a wsk socket is one the library
// accounted for in Stats.ResetsSent (nothing silent).

// rmPeerObservation is what the net peer got from one read-to-the-end (or one write).
type rmPeerObservation struct {
	what  string // "ECONNRESET", "EPIPE", "EOF" or "ok"
	reset bool
	eof   bool
}

// rmObservePeer reads c until an error (or, with write, writes one byte) and names the
// outcome.
func rmObservePeer(t *testing.T, c net.Conn, write bool) rmPeerObservation {
	t.Helper()
	require.NoError(t, c.SetDeadline(time.Now().Add(waitLimit)))
	var err error
	if write {
		_, err = c.Write([]byte("x"))
	} else {
		b := make([]byte, 64<<10)
		for err == nil {
			_, err = c.Read(b)
		}
	}
	switch {
	case err == nil:
		return rmPeerObservation{what: "ok"}
	case errors.Is(err, syscall.ECONNRESET):
		return rmPeerObservation{what: "ECONNRESET", reset: true}
	case errors.Is(err, syscall.EPIPE):
		return rmPeerObservation{what: "EPIPE", reset: true}
	case errors.Is(err, io.EOF):
		return rmPeerObservation{what: "EOF", eof: true}
	}
	require.NoError(t, err)
	return rmPeerObservation{}
}

// rmProbe snapshots the namespace's counters and the registration's ResetsSent
// around one step; without a namespace only ResetsSent is measured.
type rmProbe struct {
	t      *testing.T
	ns     *netns
	r      *Registration
	before nsTCPCounters
	resets uint64
}

func rmStartProbe(t *testing.T, ns *netns, r *Registration) *rmProbe {
	p := &rmProbe{t: t, ns: ns, r: r, resets: r.Stats().ResetsSent}
	if ns != nil {
		p.before = nsCounters(t)
	}
	return p
}

// done returns the kernel deltas (zero without a namespace) and the ResetsSent delta.
func (p *rmProbe) done() (rstDelta, int64) {
	p.t.Helper()
	var d rstDelta
	if p.ns != nil {
		d = rstDeltaOf(p.before, nsCounters(p.t))
	}
	return d, int64(p.r.Stats().ResetsSent - p.resets)
}

// TESTING.md case 29 (AutoAbortUnlessFullyDisconnected), with the kernel as oracle: close after
// {nothing, our graceful disconnect, the peer's FIN, both}. The first three reset (the
// peer reads ECONNRESET, or gets EPIPE writing when the RST reached it in CLOSE_WAIT) and
// the kernel counts one RST and one linger-0 abort; "both" closes clean: EOF, SO_ERROR 0,
// no RST. Expected deltas {1,1,1,0} for OutRsts, TCPAbortOn* and Stats.ResetsSent.
func TestResetMatrixKernelCounters(t *testing.T) {
	for _, row := range []struct {
		name              string
		localFIN, peerFIN bool
		wantReset         bool
	}{
		{"nothing shut", false, false, true},
		{"local FIN", true, false, true},
		{"remote FIN", false, true, true},
		{"both", true, true, false},
	} {
		t.Run(row.name, func(t *testing.T) {
			ns := enterNetns(t)
			r, npi := newReg(t)
			ws, c := connect(t, npi)
			if row.localFIN {
				require.Equal(t, irp.Success, disconnect(t, ws, nil, 0).wait().Status)
				require.True(t, rmObservePeer(t, c, false).eof, "the peer reads our FIN as EOF")
			}
			if row.peerFIN {
				require.NoError(t, c.(*net.TCPConn).CloseWrite())
				io := recv(t, ws, make([]byte, 4), 0).wait()
				require.Equal(t, irp.Success, io.Status)
				require.Zero(t, io.Information, "the peer's FIN is a 0-byte receive")
			}
			p := rmStartProbe(t, ns, r)
			closeSocketSync(t, ws)
			nsWaitPeerClosed(t, c) // the RST (or last ACK) is processed: the counters are final
			d, resets := p.done()
			// A peer that read our FIN already learns of the RST by writing (EPIPE); the
			// others read. "both": the peer shut its own side, so it can only read.
			obs := rmObservePeer(t, c, row.localFIN && !row.peerFIN)
			t.Logf("FIGURE reset matrix %-12s peer %-10s ResetsSent %+d, %v", row.name, obs.what, resets, d)

			require.Equal(t, row.wantReset, obs.reset, "peer saw a reset: %s", obs.what)
			if !row.wantReset {
				require.True(t, obs.eof)
				require.Zero(t, soError(t, c), "a clean close leaves no error on the peer")
			}
			want := int64(0)
			if row.wantReset {
				want = 1
			}
			require.Equal(t, want, resets, "Stats.ResetsSent")
			if ns != nil {
				require.Equal(t, want, d.OutRsts, "Tcp OutRsts")
				require.Equal(t, want, d.AbortOnData+d.AbortOnClose+d.AbortOther, "TcpExt TCPAbortOn*")
				require.Equal(t, d.OutRsts, resets, "every RST the kernel sent is one the library counted")
			}
			finish(t, r)
		})
	}
}

// TESTING.md case 35 (ResetIsSticky) against the kernel's own behaviour: Linux reports a reset once
// (ECONNRESET, then a clean EOF, which would pass for a graceful close); the wsk socket
// reports STATUS_CONNECTION_RESET to every later call, whichever comes first, and closing
// it afterwards sends nothing more.
func TestResetOnceInLinuxStickyInWsk(t *testing.T) {
	ns := enterNetns(t)

	// Linux alone, with two net sockets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	cl, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer cl.Close()
	sv, err := ln.Accept()
	require.NoError(t, err)
	require.NoError(t, sv.(*net.TCPConn).SetLinger(0))
	require.NoError(t, sv.Close())
	nsWaitPeerClosed(t, cl)
	require.NoError(t, cl.SetReadDeadline(time.Now().Add(waitLimit)))
	_, err = cl.Read(make([]byte, 1))
	require.ErrorIs(t, err, syscall.ECONNRESET, "Linux reports the reset…")
	_, err = cl.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF, "…once: the next read looks like a graceful close")

	// The same with a wsk socket: the first call (a send) meets the reset, and so does
	// every later call of any kind.
	r, npi := newReg(t)
	ws, c := connect(t, npi)
	require.NoError(t, c.(*net.TCPConn).SetLinger(0))
	require.NoError(t, c.Close())
	nsWaitFDState(t, sockOf(ws).fd, nsTCPClose)
	require.Equal(t, irp.ConnectionReset, send(t, ws, []byte("x")).wait().Status, "first call")
	conn := ws.Connection()
	var ra netip.AddrPort
	later := map[string]func(*irp.IRP) irp.Status{
		"receive": func(i *irp.IRP) irp.Status {
			b := dispatch.MakeBuf(make([]byte, 8))
			return conn.Receive(ws, &b, 0, i)
		},
		"send": func(i *irp.IRP) irp.Status {
			b := dispatch.MakeBuf([]byte("y"))
			return conn.Send(ws, &b, 0, i)
		},
		"drain receive": func(i *irp.IRP) irp.Status {
			b := dispatch.MakeBuf(nil)
			return conn.Receive(ws, &b, dispatch.FlagDrain, i)
		},
		"graceful disconnect": func(i *irp.IRP) irp.Status { return conn.Disconnect(ws, nil, 0, i) },
		"abortive disconnect": func(i *irp.IRP) irp.Status { return conn.Disconnect(ws, nil, dispatch.FlagAbortive, i) },
		"remote address":      func(i *irp.IRP) irp.Status { return conn.GetRemoteAddress(ws, &ra, i) },
	}
	for round := 0; round < 3; round++ {
		for name, fn := range later {
			require.Equal(t, irp.ConnectionReset, do(t, ws.StackSize(), fn).Status, "%s, round %d", name, round)
		}
	}
	p := rmStartProbe(t, ns, r)
	closeSocketSync(t, ws)
	d, resets := p.done()
	t.Logf("FIGURE sticky reset: close after a received RST: ResetsSent %+d, %v", resets, d)
	require.Zero(t, resets, "a reset connection is not reset again")
	require.Zero(t, d.OutRsts)
	finish(t, r)
}

// TESTING.md case 30 (CloseWithUnreadInputPolicy). The policy is WSK's (SPEC.md §3.1): a close is
// clean only after both directions were disconnected, and the library only knows the peer's side is
// done when a receive met its FIN. Input the application never read means that FIN was never seen,
// so while the connection is alive the close is abortive by rule: decided at close, counted in
// Stats.ResetsSent, the RST sent at once (the kernel agrees: TCPAbortOnClose). It is never a
// clean-looking close followed by an RST the library did not account for. Once the kernel
// itself finished the connection (both FINs sent and acknowledged, the peer's merely unread) there
// is nothing left to reset: the peer already saw a clean close, no RST goes out and none is
// counted; the unread bytes are dropped. An application that wants a clean close drains first (a
// WSK_FLAG_DRAIN receive completes at the peer's FIN).
func TestCloseWithUnreadInputPolicy(t *testing.T) {
	for _, tc := range []struct {
		name     string
		peerFIN  bool // the peer shuts its side after the unread data
		localFIN bool // our graceful disconnect before the close
		drain    bool // the application drains to the FIN before closing
		wantRST  bool
	}{
		{"unread, peer open, local FIN", false, true, false, true},
		{"unread + peer FIN, no local FIN", true, false, false, true},
		{"unread + peer FIN, local FIN", true, true, false, false},
		{"drained to the FIN, local FIN", true, true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := enterNetns(t)
			r, npi := newReg(t)
			ws, c := connect(t, npi)
			fd := sockOf(ws).fd
			_, err := c.Write([]byte("a request the application never reads"))
			require.NoError(t, err)
			if tc.peerFIN {
				require.NoError(t, c.(*net.TCPConn).CloseWrite())
				nsWaitFDState(t, fd, 8) // CLOSE_WAIT: data and FIN are in our receive queue
			} else {
				waitInput(t, fd)
			}
			if tc.drain {
				b := dispatch.MakeBuf(nil)
				io := do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
					return ws.Connection().Receive(ws, &b, dispatch.FlagDrain, i)
				})
				require.Equal(t, irp.Success, io.Status)
				require.Zero(t, io.Information)
			}
			if tc.localFIN {
				require.Equal(t, irp.Success, disconnect(t, ws, nil, 0).wait().Status, "our graceful disconnect")
				require.True(t, rmObservePeer(t, c, false).eof, "the peer sees our FIN first")
				if tc.peerFIN {
					nsWaitFDState(t, fd, nsTCPClose) // the peer acknowledged our FIN: done in the kernel
				}
			}

			p := rmStartProbe(t, ns, r)
			closeSocketSync(t, ws)
			nsWaitPeerClosed(t, c)
			d, resets := p.done()
			// A peer that shut its side learns of a reset by reading, else by writing.
			obs := rmObservePeer(t, c, !tc.peerFIN)
			t.Logf("FIGURE unread input %-32s peer %-10s ResetsSent %+d, %v", tc.name, obs.what, resets, d)
			if tc.wantRST {
				require.EqualValues(t, 1, resets, "the abort is decided and counted at close")
				require.True(t, obs.reset, "peer saw a reset: %s", obs.what)
			} else {
				require.Zero(t, resets)
				require.True(t, obs.eof, "peer saw a clean close: %s", obs.what)
				require.Zero(t, soError(t, c))
			}
			if ns != nil {
				require.Equal(t, resets, d.OutRsts, "no RST the library did not account for")
				if tc.wantRST {
					require.EqualValues(t, 1, d.AbortOnClose, "the kernel saw unread input")
				} else {
					require.Zero(t, d.AbortOnClose+d.AbortOnData+d.AbortOther)
				}
			}
			finish(t, r)
		})
	}
}

// TESTING.md case 23 (ListenerCloseCancelsAccepts) with the kernel as oracle, in both places a
// connection can wait: in the kernel's accept queue (closing the listener makes the
// kernel reset them itself) and, on a conditional-accept listener, held by the provider
// after InspectEvent said Pend while Accept IRPs wait (the close protocol cancels the
// IRPs and resets the held connections). Three clients each: OutRsts +3.
func TestListenerCloseResetsQueuedKernelCounters(t *testing.T) {
	const clients, accepts = 3, 4
	t.Run("kernel accept queue", func(t *testing.T) {
		ns := enterNetns(t)
		r, npi := newReg(t)
		ls := newListenSock(t, npi, nil, nil)
		addr := bindListen(t, ls)
		var cs []net.Conn
		for k := 0; k < clients; k++ {
			cs = append(cs, lsDial(t, addr))
		}
		nsWaitListenQueue(t, sockOf(ls).fd, clients)
		p := rmStartProbe(t, ns, r)
		closeSocketSync(t, ls)
		for _, c := range cs {
			nsWaitPeerClosed(t, c)
		}
		d, resets := p.done()
		t.Logf("FIGURE listener close, %d in the kernel queue: ResetsSent %+d (the kernel resets its own queue), %v", clients, resets, d)
		for _, c := range cs {
			require.True(t, rmObservePeer(t, c, false).reset, "a queued client sees ECONNRESET")
		}
		if ns != nil {
			require.EqualValues(t, clients, d.OutRsts)
		}
		finish(t, r)
	})
	t.Run("held by conditional accept, accepts pending", func(t *testing.T) {
		ns := enterNetns(t)
		r, npi := newReg(t)
		n := newInspector(t, dispatch.InspectPend)
		ls, addr := newConditional(t, npi, n)
		var as []*acceptCall
		for k := 0; k < accepts; k++ {
			a := startAccept(t, ls, nil, nil)
			require.Equal(t, irp.Pending, a.ret)
			as = append(as, a)
		}
		var cs []net.Conn
		for k := 0; k < clients; k++ {
			cs = append(cs, lsDial(t, addr))
			recvID(t, n.ids)
		}
		p := rmStartProbe(t, ns, r)
		closeSocketSync(t, ls)
		for _, a := range as {
			require.True(t, a.completed(), "an Accept IRP completed after the close IRP")
			io := a.wait()
			require.Equal(t, irp.Cancelled, io.Status)
			require.Nil(t, io.Object)
		}
		for _, c := range cs {
			nsWaitPeerClosed(t, c)
		}
		d, resets := p.done()
		t.Logf("FIGURE listener close, %d held + %d Accept IRPs: accepts cancelled %d, ResetsSent %+d, %v",
			clients, accepts, len(as), resets, d)
		for _, c := range cs {
			require.True(t, rmObservePeer(t, c, false).reset, "a held client sees ECONNRESET")
		}
		require.EqualValues(t, clients, resets)
		if ns != nil {
			require.EqualValues(t, clients, d.OutRsts)
			require.Equal(t, d.OutRsts, resets)
		}
		finish(t, r)
	})
}

// TESTING.md case 28 (AbortiveDisconnectRST) with the kernel as oracle: a buffer with ABORTIVE is
// STATUS_INVALID_PARAMETER and sends nothing; the abortive disconnect sends exactly one
// RST at once, fails the pending send, the send queued behind it and the pending receive
// with STATUS_CONNECTION_ABORTED, and the close that follows sends no second one.
func TestAbortiveDisconnectKernelCounters(t *testing.T) {
	ns := enterNetns(t)
	r, npi := newReg(t)
	ws, c := connect(t, npi)
	p := rmStartProbe(t, ns, r)
	b := dispatch.MakeBuf([]byte("final"))
	require.Equal(t, irp.InvalidParameter, disconnect(t, ws, &b, dispatch.FlagAbortive).wait().Status)
	d, resets := p.done()
	require.Zero(t, resets)
	require.Zero(t, d.OutRsts, "a refused abortive disconnect sends nothing")

	big := send(t, ws, make([]byte, 8<<20)) // the peer does not read: it pends
	require.Equal(t, irp.Pending, big.ret)
	behind := send(t, ws, []byte("queued behind"))
	require.Equal(t, irp.Pending, behind.ret)
	rp := recv(t, ws, make([]byte, 8), 0)
	require.Equal(t, irp.Pending, rp.ret)

	require.Equal(t, irp.Success, disconnect(t, ws, nil, dispatch.FlagAbortive).wait().Status)
	for _, pc := range []*pcall{big, behind, rp} {
		require.Equal(t, irp.ConnectionAborted, pc.wait().Status)
	}
	nsWaitPeerClosed(t, c)
	obs := rmObservePeer(t, c, false) // it reads what arrived before the RST, then the RST
	closeSocketSync(t, ws)
	d, resets = p.done()
	t.Logf("FIGURE abortive disconnect with 2 sends + 1 receive pending: peer %s, ResetsSent %+d, %v", obs.what, resets, d)
	require.True(t, obs.reset)
	require.EqualValues(t, 1, resets)
	if ns != nil {
		require.EqualValues(t, 1, d.OutRsts, "one RST, at the disconnect; none at close")
	}
	finish(t, r)
}

// A reset the peer sent and no call ever met (no receive pending, no call made since):
// the connection is already finished in the kernel, so the close has nothing to reset.
// It sends no RST and counts none (Stats.ResetsSent stays 0); the kernel agrees.
func TestCloseAfterUnnoticedPeerReset(t *testing.T) {
	ns := enterNetns(t)
	r, npi := newReg(t)
	ws, c := connect(t, npi)
	require.NoError(t, c.(*net.TCPConn).SetLinger(0))
	require.NoError(t, c.Close())
	nsWaitFDState(t, sockOf(ws).fd, nsTCPClose)
	p := rmStartProbe(t, ns, r)
	closeSocketSync(t, ws)
	d, resets := p.done()
	t.Logf("FIGURE close after an unnoticed peer reset: ResetsSent %+d, %v", resets, d)
	require.Zero(t, resets)
	require.Zero(t, d.OutRsts)
	finish(t, r)
}
