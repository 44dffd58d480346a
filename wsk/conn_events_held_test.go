//go:build unix || windows

package wsk

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// heldEvents is a receive event that takes the first `first` bytes of its first
// indication and refuses every later one (STATUS_DATA_NOT_ACCEPTED), so what it leaves
// stays held and only WskReceive takes it. Each indication's bytes go on shown.
func heldEvents(first int) (*dispatch.ClientConnectionDispatch, chan []byte) {
	shown := make(chan []byte, 64)
	var calls atomic.Int32
	cd := &dispatch.ClientConnectionDispatch{
		ReceiveEvent: func(_ any, _ dispatch.Flags, list *dispatch.DataIndication, n int, accepted *int) irp.Status {
			if list == nil {
				return irp.Success
			}
			b := listBytes(list)
			if len(b) != n {
				b = nil // BytesIndicated disagrees with the list: the test sees nil
			}
			shown <- b
			if calls.Add(1) == 1 && first > 0 {
				*accepted = first
				return irp.Success
			}
			return irp.DataNotAccepted
		},
	}
	return cd, shown
}

// waitSettled waits until no receive callback holds an indication (the test learns of
// an indication from inside the callback, before the provider settled it).
func waitSettled(t *testing.T, ws *dispatch.Socket) {
	t.Helper()
	s := sockOf(ws)
	deadline := time.Now().Add(waitLimit)
	for {
		s.mu.Lock()
		busy := s.indicatingLocked() || s.gate.running&dispatch.EventReceive != 0
		s.mu.Unlock()
		if !busy {
			return
		}
		require.True(t, time.Now().Before(deadline), "the receive callback never settled")
		time.Sleep(time.Millisecond)
	}
}

// TestHeldBytesGoToReceivesInOrder: the bytes a receive event read but did not take (a partial
// BytesAccepted) are held and served to the next WskReceives before the kernel's later bytes (a
// receive with room left goes on with those), and the peer's FIN shows only after them (EOF after
// the held bytes).
func TestHeldBytesGoToReceivesInOrder(t *testing.T) {
	r, npi := newReg(t)
	cd, shown := heldEvents(3)
	ws, c := evConnect(t, npi, nil, cd)
	require.Equal(t, irp.Success, evSet(ws, dispatch.EventReceive, nil))
	writePeer(t, c, "hello world")
	first := within(t, shown)
	require.Equal(t, "hello world", string(first), "one read, one indication")
	writePeer(t, c, "!!")
	require.NoError(t, c.(*net.TCPConn).CloseWrite())

	require.Equal(t, "lo w", string(recvData(t, ws, 4)), "held bytes first")
	rest := ""
	for len(rest) < len("orld!!") {
		rest += string(recvData(t, ws, 100))
	}
	require.Equal(t, "orld!!", rest, "the rest of the held bytes, then the kernel's")
	io := recv(t, ws, make([]byte, 8), 0).wait()
	require.Equal(t, irp.Success, io.Status)
	require.Zero(t, io.Information, "EOF only after every held byte")
	closeSocketSync(t, ws)
	finish(t, r)
}

// TestHeldBytesWaitAllZeroLengthDrain: a refused indication leaves every byte held; a
// zero-length WskReceive completes at once (data is there) taking none, WAITALL fills
// from the held bytes and then from the kernel, and DRAIN discards held bytes too.
func TestHeldBytesWaitAllZeroLengthDrain(t *testing.T) {
	r, npi := newReg(t)
	cd, shown := heldEvents(0)
	ws, c := evConnect(t, npi, nil, cd)
	require.Equal(t, irp.Success, evSet(ws, dispatch.EventReceive, nil))
	writePeer(t, c, "abc")
	require.Equal(t, "abc", string(within(t, shown)))
	waitSettled(t, ws)

	zero := recv(t, ws, nil, 0)
	require.NotEqual(t, irp.Pending, zero.ret, "held data is there: the zero-length receive completes inline")
	zio := zero.wait()
	require.Equal(t, irp.Success, zio.Status)
	require.Zero(t, zio.Information)
	// A receive completed: the pause ends and the held bytes are indicated again.
	require.Equal(t, "abc", string(within(t, shown)))
	waitSettled(t, ws)

	b := make([]byte, 8)
	p := recv(t, ws, b, dispatch.FlagWaitAll)
	writePeer(t, c, "defgh")
	io := p.wait()
	require.Equal(t, irp.Success, io.Status)
	require.EqualValues(t, 8, io.Information)
	require.Equal(t, "abcdefgh", string(b))

	// The events resumed (a receive completed): the next bytes are indicated, refused,
	// and held; DRAIN discards them and everything up to the FIN.
	writePeer(t, c, "discard me")
	require.Equal(t, "discard me", string(within(t, shown)))
	require.NoError(t, c.(*net.TCPConn).CloseWrite())
	empty := dispatch.MakeBuf(nil)
	io = do(t, ws.StackSize(), func(i *irp.IRP) irp.Status {
		return ws.Connection().Receive(ws, &empty, dispatch.FlagDrain, i)
	})
	require.Equal(t, irp.Success, io.Status)
	require.Zero(t, io.Information)
	closeSocketSync(t, ws)
	finish(t, r)
}

// TestHeldBytesCloseIsAbortive: held bytes are unread input, like bytes still in the
// kernel: a close that finds them resets the connection and counts it in
// Stats.ResetsSent, and the held bytes are never delivered.
func TestHeldBytesCloseIsAbortive(t *testing.T) {
	r, npi := newReg(t)
	cd, shown := heldEvents(0)
	ws, c := evConnect(t, npi, nil, cd)
	require.Equal(t, irp.Success, evSet(ws, dispatch.EventReceive, nil))
	writePeer(t, c, "never read")
	require.Equal(t, "never read", string(within(t, shown)))
	before := r.Stats().ResetsSent
	closeSocketSync(t, ws)
	require.Equal(t, before+1, r.Stats().ResetsSent, "the close was abortive")
	res := readAll(t, c)
	require.True(t, res.reset, "the peer sees a reset")
	require.Empty(t, shown, "held bytes are not indicated after close")
	finish(t, r)
}
