//go:build unix || windows

package wsk

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// rearmRounds is how many times each path of TestReadinessAfterEveryAgain waits for
// readiness: the first report after Register is free (the engine watches both directions
// of a new descriptor), the later ones come only after a re-arm.
const rearmRounds = 4

// TestReadinessAfterEveryAgain is the provider's half of the engine's edge contract on a
// level-triggered poller (engine doc, "Edges on a level-triggered poller"): after a read,
// a write or an accept met EAGAIN (WSAEWOULDBLOCK), or a read came back short, the next
// readiness still reaches the socket. epoll and the runtime poller of Unix deliver edges
// themselves; Windows's WSAPoll engine watches a direction it reported once only after
// the provider re-armed it (engine.FD.RearmRead/RearmWrite), so a path without its re-arm
// leaves its IRP or event pending past waitLimit, and the round fails.
func TestReadinessAfterEveryAgain(t *testing.T) {
	t.Run("receive", func(t *testing.T) {
		r, npi := newReg(t)
		ws, c := connect(t, npi)
		for k := range rearmRounds {
			p := recv(t, ws, make([]byte, 8), 0)
			require.Equal(t, irp.Pending, p.ret, "round %d: nothing waits, the receive pends", k)
			writePeer(t, c, "data")
			io := p.wait()
			require.Equal(t, irp.Success, io.Status, "round %d", k)
			require.EqualValues(t, 4, io.Information, "round %d", k)
		}
		closeSocketSync(t, ws)
		finish(t, r)
	})
	t.Run("receive event", func(t *testing.T) {
		r, npi := newReg(t)
		cd, got := collectEvents()
		ws, c := evConnect(t, npi, nil, cd)
		require.Equal(t, irp.Success, evSet(ws, dispatch.EventReceive, nil))
		for k := range rearmRounds {
			writePeer(t, c, "ev")
			b := within(t, got)
			for len(b) < 2 {
				b = append(b, within(t, got)...)
			}
			require.Equal(t, "ev", string(b), "round %d", k)
		}
		closeSocketSync(t, ws)
		finish(t, r)
	})
	t.Run("send", func(t *testing.T) {
		r, npi := newReg(t)
		ws, c := connect(t, npi)
		rlShrinkSendBuf(t, ws)
		// A fixed receive buffer on the peer stops autotuning (which would let a later
		// round's send fit in the grown buffer and complete inline): 1 MiB is then more
		// than both buffers in every round, and the send pends.
		require.NoError(t, c.(*net.TCPConn).SetReadBuffer(64<<10))
		big := make([]byte, 1<<20)
		for k := range rearmRounds {
			p := send(t, ws, big)
			require.Equal(t, irp.Pending, p.ret, "round %d: the send waits for the peer", k)
			require.NoError(t, c.SetReadDeadline(time.Now().Add(waitLimit)))
			_, err := io.ReadFull(c, make([]byte, len(big)))
			require.NoError(t, err, "round %d: the peer reads the whole send", k)
			st := p.wait()
			require.Equal(t, irp.Success, st.Status, "round %d", k)
			require.EqualValues(t, len(big), st.Information, "round %d", k)
		}
		closeSocketSync(t, ws)
		finish(t, r)
	})
	t.Run("accept", func(t *testing.T) {
		r, npi := newReg(t)
		ls := newListenSock(t, npi, nil, nil)
		a := bindListen(t, ls)
		for k := range rearmRounds {
			ac := startAccept(t, ls, nil, nil)
			require.Equal(t, irp.Pending, ac.ret, "round %d: nothing queued, the accept pends", k)
			lsDial(t, a)
			io := ac.wait()
			require.Equal(t, irp.Success, io.Status, "round %d", k)
			closeSocketSync(t, io.Object.(*dispatch.Socket))
		}
		closeSocketSync(t, ls)
		finish(t, r)
	})
	t.Run("receive from", func(t *testing.T) {
		r, npi := newReg(t)
		ws, local := newDgSocket(t, npi, AFInet, nil, nil)
		c, _ := udpPeer(t, AFInet)
		for k := range rearmRounds {
			rf := receiveFrom(t, ws, 16)
			require.Equal(t, irp.Pending, rf.ret, "round %d: nothing waits, the receive pends", k)
			peerWrite(t, c, local, []byte("dg"))
			io := rf.wait()
			require.Equal(t, irp.Success, io.Status, "round %d", k)
			require.Equal(t, "dg", string(rf.buf[:io.Information]), "round %d", k)
		}
		closeSocketSync(t, ws)
		finish(t, r)
	})
}
