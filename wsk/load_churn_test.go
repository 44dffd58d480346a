//go:build linux

package wsk

import (
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// Churn (TESTING.md cases 42 FDReuseNoCrossTalk and 43 ChurnLeakCheck, scaled to
// this machine): thousands of connect/send/close cycles from a few workers, each closing
// at a random point. Every payload is the connection's id repeated, so a byte that
// reaches the wrong peer (a descriptor number reused under a stale socket) shows at once
// at the server. After every close the now stale handle is tried again and must be
// refused. At the end nothing is left: goroutines (goleak), descriptors (/proc/self/fd
// back at its baseline), sockets and IRPs (Stats).

// chPoint is where a cycle ends its connection.
type chPoint int

const (
	chGraceful     chPoint = iota // disconnect, wait for the peer's FIN, close: clean, every byte checked
	chAbortive                    // WskDisconnect(ABORTIVE) after the send, then close
	chCloseAfter                  // close while connected, after the send completed: RST
	chCloseInSend                 // close right after issuing the send: it completes or is cancelled
	chCloseConnect                // close right after issuing the connect: it completes or is cancelled
	chPoints
)

func (p chPoint) String() string {
	return [...]string{"graceful", "abortive", "close-connected", "close-in-send", "close-in-connect"}[p]
}

// chServer is the net peer: it checks that every connection carries one id only.
type chServer struct {
	t        *testing.T
	ln       net.Listener
	wg       sync.WaitGroup
	issued   atomic.Uint64 // ids handed out so far (ids are 1..issued)
	holds    sync.Map      // id → chan struct{}: read nothing past the tag until it closes
	mu       sync.Mutex
	got      map[uint64]chResult
	crossed  atomic.Int64 // connections whose bytes did not all belong to one id
	accepted atomic.Int64
}

// chResult is what the server saw on one connection.
type chResult struct {
	bytes int
	eof   bool
}

func newChServer(t *testing.T) *chServer {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	s := &chServer{t: t, ln: ln, got: map[uint64]chResult{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.wg.Add(1)
			go s.serve(c)
		}
	}()
	return s
}

func (s *chServer) addr() netip.AddrPort { return s.ln.Addr().(*net.TCPAddr).AddrPort() }

// stop closes the listener and waits for every connection handler.
func (s *chServer) stop() {
	s.ln.Close()
	s.wg.Wait()
}

// chHold is the tag bit asking the server to stop reading after the tag until the client
// says so: the client's send then cannot finish, and its close must cancel it.
const chHold = 1 << 63

// serve reads one connection to its end and checks its bytes: the first 8 are the tag
// (the id, maybe with chHold), every later byte repeats the tag's bytes in order.
func (s *chServer) serve(c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(waitLimit))
	var data []byte
	b := make([]byte, 8<<10)
	var err error
	held := false
	for {
		var n int
		n, err = c.Read(b)
		data = append(data, b[:n]...)
		if err != nil {
			break
		}
		if !held && len(data) >= 8 {
			held = true
			if tag := binary.LittleEndian.Uint64(data); tag&chHold != 0 {
				if ch, ok := s.holds.Load(tag &^ chHold); ok {
					select {
					case <-ch.(chan struct{}):
					case <-time.After(waitLimit):
						assert.Fail(s.t, "a held connection was never released")
					}
				}
			}
		}
	}
	eof := errors.Is(err, io.EOF)
	if !eof && !isReset(err) {
		assert.NoError(s.t, err, "server read")
	}
	if len(data) < 8 {
		return // reset before the id arrived: nothing to attribute
	}
	id := binary.LittleEndian.Uint64(data) &^ chHold
	ok := id >= 1 && id <= s.issued.Load()
	for k := 8; ok && k < len(data); k++ {
		ok = data[k] == data[k%8]
	}
	if !ok {
		s.crossed.Add(1)
		assert.Failf(s.t, "cross-talk", "a connection carried bytes of another id (first id %d, %d bytes)", id, len(data))
		return
	}
	s.mu.Lock()
	if _, dup := s.got[id]; dup {
		s.crossed.Add(1)
		assert.Failf(s.t, "cross-talk", "id %d arrived on two connections", id)
	}
	s.got[id] = chResult{bytes: len(data), eof: eof}
	s.mu.Unlock()
}

func (s *chServer) result(id uint64) (chResult, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.got[id]
	return r, ok
}

// chTally is one worker's counts.
type chTally struct {
	cycles      int
	points      [chPoints]int
	graceful    []chSent // checked at the server once the workers are done
	staleRefuse int
	sendCancel  int // close-in-send: sends close cancelled
	connCancel  int // close-in-connect: connects close cancelled
}

type chSent struct {
	id    uint64
	bytes int
}

// chWait waits for a tracked call on a worker goroutine (assert, not require).
func chWait(t *testing.T, c *crCall) (irp.IoStatusBlock, bool) {
	select {
	case <-c.done:
	case <-time.After(waitLimit):
		assert.Fail(t, "IRP never completed")
		return irp.IoStatusBlock{}, false
	}
	ok := assert.Empty(t, c.syncBreach) &&
		assert.Equal(t, c.ret == irp.Pending, c.pendingReturned, "Pending return ⇔ PendingReturned") &&
		assert.EqualValues(t, 1, c.count.Load(), "IRP completed more than once")
	c.i.Free()
	return c.io, ok
}

// chCycle runs one connection: create, bind, connect, send the tagged payload, end it at
// point p, close, and check the stale handle is refused. It returns false on a failure
// (already reported).
func chCycle(t *testing.T, npi ProviderNPI, srv *chServer, clk *crClock, rng *rand.Rand, tl *chTally) bool {
	p := chPoint(rng.IntN(100))
	switch {
	case p < 40:
		p = chGraceful
	case p < 55:
		p = chAbortive
	case p < 75:
		p = chCloseAfter
	case p < 90:
		p = chCloseInSend
	default:
		p = chCloseConnect
	}
	tl.cycles++
	tl.points[p]++
	id := srv.issued.Add(1)
	words := 1 + rng.IntN(512) // up to 4 KiB: the kernel takes it at once
	tag := id
	if p == chCloseInSend && rng.IntN(2) == 0 {
		// The server stops reading after the tag until this cycle closed: 256 KiB can
		// never all be in the kernel, so close finds the send pending and cancels it.
		tag |= chHold
		words = 32 << 10
		release := make(chan struct{})
		srv.holds.Store(id, release)
		defer func() {
			close(release)
			srv.holds.Delete(id)
		}()
	}
	payload := make([]byte, 8*words)
	for k := 0; k < words; k++ {
		binary.LittleEndian.PutUint64(payload[8*k:], tag)
	}

	io, ok := chWait(t, crStart(clk, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, AFInet, SockStream, IPProtoTCP, dispatch.ConnectionSocket, nil, nil, i)
	}))
	if !ok || !assert.Equal(t, irp.Success, io.Status, "create") {
		return false
	}
	ws := io.Object.(*dispatch.Socket)
	conn := ws.Connection()
	call := func(fn func(*irp.IRP) irp.Status) (irp.IoStatusBlock, bool) {
		return chWait(t, crStart(clk, ws.StackSize(), fn))
	}
	var closeSeq uint64
	closeIt := func() bool {
		cc := crStart(clk, ws.StackSize(), func(i *irp.IRP) irp.Status { return ws.Basic().CloseSocket(ws, i) })
		io, ok := chWait(t, cc)
		if !ok || !assert.Equal(t, irp.Success, io.Status, "close") {
			return false
		}
		closeSeq = cc.seq
		// The handle is stale now: every call is refused, whatever reuses the number.
		stale := crStart(clk, ws.StackSize(), func(i *irp.IRP) irp.Status {
			b := dispatch.MakeBuf(payload)
			return conn.Send(ws, &b, 0, i)
		})
		io, ok = chWait(t, stale)
		if !ok || !assert.Equal(t, irp.InvalidHandle, io.Status, "a stale handle is refused") {
			return false
		}
		tl.staleRefuse++
		return true
	}
	if tag&chHold != 0 {
		// A small, fixed send buffer (no autotuning) keeps the kernel from taking it all.
		sz := binary.LittleEndian.AppendUint32(nil, crSmallSndBuf)
		if !assert.Equal(t, irp.Success, ws.Basic().ControlSocket(ws, dispatch.SetOption, SOSndBuf, dispatch.SOLSocket, sz, nil, nil, nil)) {
			return false
		}
	}
	if io, ok := call(func(i *irp.IRP) irp.Status { return conn.Bind(ws, netip.AddrPort{}, 0, i) }); !ok || !assert.Equal(t, irp.Success, io.Status, "bind") {
		return false
	}
	connect := crStart(clk, ws.StackSize(), func(i *irp.IRP) irp.Status { return conn.Connect(ws, srv.addr(), 0, i) })
	if p == chCloseConnect {
		if !closeIt() {
			return false
		}
		io, ok := chWait(t, connect)
		if !ok {
			return false
		}
		if io.Status == irp.Cancelled {
			tl.connCancel++
		}
		if !assert.Less(t, connect.seq, closeSeq, "the connect completed after the close IRP") {
			return false
		}
		return assert.Contains(t, []irp.Status{irp.Success, irp.Cancelled}, io.Status, "connect raced by close")
	}
	if io, ok := chWait(t, connect); !ok || !assert.Equal(t, irp.Success, io.Status, "connect") {
		return false
	}
	sendCall := crStart(clk, ws.StackSize(), func(i *irp.IRP) irp.Status {
		b := dispatch.MakeBuf(payload)
		return conn.Send(ws, &b, 0, i)
	})
	if p == chCloseInSend {
		if !closeIt() {
			return false
		}
		io, ok := chWait(t, sendCall)
		if !ok {
			return false
		}
		if io.Status == irp.Cancelled {
			tl.sendCancel++
		}
		if !assert.Less(t, sendCall.seq, closeSeq, "the send completed after the close IRP") {
			return false
		}
		return assert.Contains(t, []irp.Status{irp.Success, irp.Cancelled}, io.Status, "send raced by close")
	}
	if io, ok := chWait(t, sendCall); !ok || !assert.Equal(t, irp.Success, io.Status, "send") ||
		!assert.EqualValues(t, len(payload), io.Information) {
		return false
	}
	switch p {
	case chGraceful:
		if io, ok := call(func(i *irp.IRP) irp.Status { return conn.Disconnect(ws, nil, 0, i) }); !ok || !assert.Equal(t, irp.Success, io.Status, "disconnect") {
			return false
		}
		// The server closes after our FIN: its FIN makes the close clean.
		b := make([]byte, 16)
		io, ok := call(func(i *irp.IRP) irp.Status {
			buf := dispatch.MakeBuf(b)
			return conn.Receive(ws, &buf, 0, i)
		})
		if !ok || !assert.Equal(t, irp.Success, io.Status, "receive the FIN") || !assert.Zero(t, io.Information, "the server sends nothing") {
			return false
		}
		tl.graceful = append(tl.graceful, chSent{id: id, bytes: len(payload)})
	case chAbortive:
		if io, ok := call(func(i *irp.IRP) irp.Status { return conn.Disconnect(ws, nil, dispatch.FlagAbortive, i) }); !ok || !assert.Equal(t, irp.Success, io.Status, "abortive disconnect") {
			return false
		}
	}
	return closeIt()
}

func TestChurnNoCrossTalkNoLeaks(t *testing.T) {
	leakOpts := []goleak.Option{goleak.IgnoreCurrent()}
	t.Cleanup(func() { goleak.VerifyNone(t, leakOpts...) }) // last: after every other cleanup

	cycles := 3000
	if testing.Short() {
		cycles = 300
	}
	const workers = 4
	ns := enterNetns(t)
	fdBase := nsOpenFDs(t)
	srv := newChServer(t)
	t.Cleanup(srv.stop) // on a failure; stop is idempotent enough (Close twice, Wait twice)
	r, npi := newReg(t)
	clk := &crClock{}
	seed := uint64(time.Now().UnixNano())
	t.Logf("churn seed %d", seed)

	start := time.Now()
	tallies := make([]chTally, workers)
	var wg sync.WaitGroup
	var failed atomic.Bool
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			leave, err := ns.join() // create the sockets inside the test's namespace
			if !assert.NoError(t, err) {
				failed.Store(true)
				return
			}
			defer leave()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for k := w; k < cycles && !failed.Load(); k += workers {
				if !chCycle(t, npi, srv, clk, rng, &tallies[w]) {
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	require.False(t, failed.Load(), "a cycle failed (see above)")
	elapsed := time.Since(start)
	srv.stop()

	var tl chTally
	for _, x := range tallies {
		tl.cycles += x.cycles
		for p := range x.points {
			tl.points[p] += x.points[p]
		}
		tl.graceful = append(tl.graceful, x.graceful...)
		tl.staleRefuse += x.staleRefuse
		tl.sendCancel += x.sendCancel
		tl.connCancel += x.connCancel
	}
	require.Equal(t, cycles, tl.cycles)
	for _, g := range tl.graceful {
		res, ok := srv.result(g.id)
		require.True(t, ok, "graceful connection %d never reached the server", g.id)
		require.Equal(t, g.bytes, res.bytes, "graceful connection %d: every byte arrives", g.id)
		require.True(t, res.eof, "graceful connection %d ends with EOF", g.id)
	}
	require.Zero(t, srv.crossed.Load(), "cross-talk")
	for p := chPoint(0); p < chPoints; p++ {
		require.Positive(t, tl.points[p], "close point %v never drawn", p)
	}
	require.Equal(t, tl.cycles, tl.staleRefuse, "every stale handle refused")

	finish(t, r) // Stats: 0 sockets open, 0 IRPs pending, 0 captures; engine stopped
	st := r.Stats()
	require.EqualValues(t, tl.cycles, st.SocketsCreated)
	require.Equal(t, st.SocketsCreated, st.SocketsClosed)

	// Descriptors: back at the baseline (a few allowed for the runtime), with retries for
	// closes still in flight on the peer side.
	fdEnd := nsOpenFDs(t)
	for deadline := time.Now().Add(waitLimit); fdEnd > fdBase+2 && time.Now().Before(deadline); fdEnd = nsOpenFDs(t) {
		time.Sleep(10 * time.Millisecond)
	}
	where := "host loopback"
	if ns != nil {
		where = "private namespace"
	}
	t.Logf("FIGURE churn (%s): %d cycles by %d workers in %v; close points graceful %d, abortive %d, close-connected %d, close-in-send %d (%d sends cancelled), close-in-connect %d (%d connects cancelled); server accepted %d, cross-talk %d, stale handles refused %d/%d; fds %d before, %d after; Stats sockets open %d, IRPs pending %d, created %d, IRPs completed %d",
		where, tl.cycles, workers, elapsed.Round(time.Millisecond),
		tl.points[chGraceful], tl.points[chAbortive], tl.points[chCloseAfter], tl.points[chCloseInSend], tl.sendCancel,
		tl.points[chCloseConnect], tl.connCancel, srv.accepted.Load(), srv.crossed.Load(), tl.staleRefuse, tl.cycles,
		fdBase, fdEnd, st.SocketsOpen, st.IRPsPending, st.SocketsCreated, st.IRPsCompleted)
	require.LessOrEqual(t, fdEnd, fdBase+2, "descriptors leaked")
}
