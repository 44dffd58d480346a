package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
)

// The racing step's size: raceRounds connections, each closed while raceCalls receives
// are being issued on it.
const (
	raceRounds = 8
	raceCalls  = 4
)

// tourT carries the tour's provider and writer through its steps. The first error ends
// the tour; the transcript printed so far stays.
type tourT struct {
	w   io.Writer
	p   *provider
	ctx context.Context

	// How the racing calls of step 5 fared: not printed (it varies), kept for the test
	// that checks both outcomes really happen.
	refused, admitted int
}

// tour runs the guided tour and writes its transcript to w. Nothing in the transcript
// depends on ports or timing, so a test can compare it in full.
func tour(w io.Writer) error {
	_, err := runTour(w)
	return err
}

// runTour is tour, also returning its state for tests.
func runTour(w io.Writer) (*tourT, error) {
	p, err := openProvider(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		return nil, err
	}
	t := &tourT{w: w, p: p, ctx: context.Background()}
	fmt.Fprintln(w, "A gowsk server (package wsk: a listen socket, Accept IRPs) on 127.0.0.1,")
	fmt.Fprintln(w, "and a plain net.Conn client as the peer. Each step: what the server called,")
	fmt.Fprintln(w, "with the NTSTATUS it got, and what the peer's read() returned.")
	steps := []func() error{t.graceful, t.abortive, t.closeConnected, t.closePending, t.race}
	for _, step := range steps {
		if err = step(); err != nil {
			break
		}
	}
	p.shutdown()
	if err != nil {
		return t, err
	}
	s := p.reg.Stats()
	fmt.Fprintln(w, "== After Deregister (it waits for every socket to be closed)")
	fmt.Fprintf(w, "   sockets created %d, closed %d, open %d; IRPs pending %d; resets sent %d\n",
		s.SocketsCreated, s.SocketsClosed, s.SocketsOpen, s.IRPsPending, s.ResetsSent)
	fmt.Fprintln(w, "tour complete")
	return t, nil
}

// say prints one line of the transcript, indented under its step.
func (t *tourT) say(format string, args ...any) {
	fmt.Fprintf(t.w, "   "+format+"\n", args...)
}

// connect makes one connection: the peer dials, the server takes it with an Accept IRP.
func (t *tourT) connect() (*dispatch.Socket, *net.TCPConn, error) {
	peer, err := dialPeer(t.p.addr.String())
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(t.ctx, peerDeadline)
	defer cancel()
	s, _, st := t.p.accept(ctx)
	if st != irp.Success {
		peer.Close()
		return nil, nil, fmt.Errorf("accept: %v", st)
	}
	return s, peer, nil
}

// call is a synchronous call on s (wsk.Call).
func (t *tourT) call(s *dispatch.Socket, fn func(*irp.IRP) irp.Status) irp.IoStatusBlock {
	return wsk.Call(t.ctx, s.StackSize(), fn)
}

// receive is one WskReceive of up to 64 bytes on s, waited for.
func (t *tourT) receive(s *dispatch.Socket) irp.IoStatusBlock {
	in := dispatch.MakeBuf(make([]byte, 64))
	return t.call(s, func(i *irp.IRP) irp.Status { return s.Connection().Receive(s, &in, 0, i) })
}

// send is one WskSend of text on s, waited for.
func (t *tourT) send(s *dispatch.Socket, text string) irp.IoStatusBlock {
	out := dispatch.MakeBuf([]byte(text))
	return t.call(s, func(i *irp.IRP) irp.Status { return s.Connection().Send(s, &out, 0, i) })
}

// resets is the provider's count of RSTs it caused so far.
func (t *tourT) resets() uint64 { return t.p.reg.Stats().ResetsSent }

// graceful: Disconnect with a final buffer sends it and then FIN; once the peer's FIN is
// seen (a receive completing with 0 bytes) the connection is shut in both directions and
// CloseSocket releases it without a reset.
func (t *tourT) graceful() error {
	fmt.Fprintln(t.w, "== 1. Graceful disconnect, then close: FIN both ways, no reset")
	s, peer, err := t.connect()
	if err != nil {
		return err
	}
	defer peer.Close()
	conn := s.Connection()
	before := t.resets()

	bye := dispatch.MakeBuf([]byte("BYE\n"))
	res := t.call(s, func(i *irp.IRP) irp.Status { return conn.Disconnect(s, &bye, 0, i) })
	t.say("server: Disconnect(graceful, final buffer %q) -> %v", "BYE\n", res.Status)
	t.say("peer:   read %s, then %s", peerReadN(peer, 4), peerReadEnd(peer))
	err = peer.CloseWrite()
	t.say("peer:   CloseWrite (its FIN): %s", errText(err))

	res = t.receive(s)
	t.say("server: Receive -> %v, %d bytes (the peer's FIN)", res.Status, res.Information)
	t.say("server: CloseSocket -> %v", closeSocket(s))
	t.say("peer:   read again: %s (no reset)", peerReadEnd(peer))
	t.say("resets the provider sent: %d", t.resets()-before)
	return nil
}

// abortive: Disconnect with WSK_FLAG_ABORTIVE resets at once; the socket stays open,
// its error sticky, until CloseSocket, which does not reset a second time.
func (t *tourT) abortive() error {
	fmt.Fprintln(t.w, "== 2. Abortive disconnect: RST at once; the error is sticky until close")
	s, peer, err := t.connect()
	if err != nil {
		return err
	}
	defer peer.Close()
	conn := s.Connection()
	before := t.resets()

	res := t.call(s, func(i *irp.IRP) irp.Status { return conn.Disconnect(s, nil, dispatch.FlagAbortive, i) })
	t.say("server: Disconnect(WSK_FLAG_ABORTIVE) -> %v", res.Status)
	t.say("peer:   read: %s", peerReadEnd(peer))
	t.say("peer:   read again: %s (Linux reports a reset once)", peerReadEnd(peer))
	res = t.receive(s)
	t.say("server: Receive -> %v (gowsk keeps the first error: sticky)", res.Status)
	res = t.send(s, "late")
	t.say("server: Send -> %v", res.Status)
	t.say("server: CloseSocket -> %v", closeSocket(s))
	t.say("resets the provider sent: %d", t.resets()-before)
	return nil
}

// closeConnected: CloseSocket on a connection still open in both directions resets it
// (close protocol step 6); bytes the peer already has stay readable before the RST.
func (t *tourT) closeConnected() error {
	fmt.Fprintln(t.w, "== 3. Close while still connected: the close protocol resets the connection")
	s, peer, err := t.connect()
	if err != nil {
		return err
	}
	defer peer.Close()
	before := t.resets()

	res := t.send(s, "hello\n")
	t.say("server: Send(%q) -> %v, %d bytes", "hello\n", res.Status, res.Information)
	t.say("peer:   read %s", peerReadN(peer, 6))
	t.say("server: CloseSocket -> %v (not disconnected: SO_LINGER{1,0}, then close)", closeSocket(s))
	t.say("peer:   read: %s", peerReadEnd(peer))
	t.say("resets the provider sent: %d", t.resets()-before)
	return nil
}

// closePending: close cancels every pending IRP (STATUS_CANCELLED, 0 bytes), in queue
// order, and completes its own IRP last.
func (t *tourT) closePending() error {
	const n = 3
	fmt.Fprintln(t.w, "== 4. Close with pending receive IRPs: each is cancelled, the close IRP completes last")
	s, peer, err := t.connect()
	if err != nil {
		return err
	}
	defer peer.Close()
	conn := s.Connection()

	var order atomic.Int64
	calls := make([]*asyncCall, n)
	names := map[*asyncCall]string{}
	for k := range calls {
		in := dispatch.MakeBuf(make([]byte, 64))
		calls[k] = start(&order, s, func(i *irp.IRP) irp.Status { return conn.Receive(s, &in, 0, i) })
		names[calls[k]] = fmt.Sprintf("receive #%d", k+1)
		t.say("server: Receive #%d -> %v (the peer sends nothing)", k+1, calls[k].returned)
	}
	cl := start(&order, s, func(i *irp.IRP) irp.Status { return s.Basic().CloseSocket(s, i) })
	names[cl] = "close"
	t.say("server: CloseSocket -> %v", cl.returned)

	all := append(calls, cl)
	for _, c := range all {
		c.wait()
	}
	sort.Slice(all, func(a, b int) bool { return all[a].seq < all[b].seq })
	var seen []string
	for _, c := range all {
		if c == cl {
			seen = append(seen, fmt.Sprintf("%s %v", names[c], c.final.Status))
			continue
		}
		seen = append(seen, fmt.Sprintf("%s %v, %d bytes", names[c], c.final.Status, c.final.Information))
	}
	t.say("completion order:")
	for k, line := range seen {
		t.say("  %d. %s", k+1, line)
	}
	t.say("peer:   read: %s", peerReadEnd(peer))
	return nil
}

// race: receives issued while CloseSocket runs. Which calls get in varies from run to
// run; what never varies is checked and printed.
func (t *tourT) race() error {
	fmt.Fprintln(t.w, "== 5. Calls racing close: each is refused at once or admitted and cancelled")
	t.say("%d connections; on each, %d goroutines issue a Receive while the server closes it.", raceRounds, raceCalls)
	t.say("Which calls get in varies from run to run; these facts do not:")
	var (
		eitherOr    = true // refused with STATUS_INVALID_HANDLE, or pending then STATUS_CANCELLED
		exactlyOnce = true // every completion routine ran once
		closeLast   = true // the close IRP completed after every receive it admitted
		closeOK     = true // CloseSocket returned STATUS_PENDING and completed STATUS_SUCCESS
		peerReset   = true // the peer saw the RST (ECONNRESET or EPIPE)
		afterClose  irp.Status
	)
	for r := range raceRounds {
		s, peer, err := t.connect()
		if err != nil {
			return err
		}
		conn := s.Connection()
		var order atomic.Int64
		calls := make([]*asyncCall, raceCalls)
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for k := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				in := dispatch.MakeBuf(make([]byte, 64))
				<-gate
				for range (k + r) % 4 { // vary who is first from round to round
					runtime.Gosched()
				}
				calls[k] = start(&order, s, func(i *irp.IRP) irp.Status { return conn.Receive(s, &in, 0, i) })
			}()
		}
		close(gate)
		for range r % 3 {
			runtime.Gosched()
		}
		cl := start(&order, s, func(i *irp.IRP) irp.Status { return s.Basic().CloseSocket(s, i) })
		wg.Wait()
		closed := cl.wait()
		closeOK = closeOK && cl.returned == irp.Pending && closed.Status == irp.Success
		for _, c := range calls {
			st := c.wait()
			refused := c.returned == irp.InvalidHandle && st.Status == irp.InvalidHandle
			admitted := c.returned == irp.Pending && st.Status == irp.Cancelled
			eitherOr = eitherOr && (refused || admitted)
			if refused {
				t.refused++
			}
			if admitted {
				t.admitted++
			}
			closeLast = closeLast && (!admitted || c.seq < cl.seq)
			exactlyOnce = exactlyOnce && c.runs.Load() == 1
		}
		exactlyOnce = exactlyOnce && cl.runs.Load() == 1
		if r == raceRounds-1 {
			in := dispatch.MakeBuf(make([]byte, 64))
			afterClose = t.call(s, func(i *irp.IRP) irp.Status { return conn.Receive(s, &in, 0, i) }).Status
		}
		peerReset = peerReset && isReset(peerReadEnd(peer))
		peer.Close()
	}
	t.say("every Receive either got %v at once or returned %v and completed %v: %v",
		irp.InvalidHandle, irp.Pending, irp.Cancelled, eitherOr)
	t.say("every IRP completed exactly once: %v", exactlyOnce)
	t.say("every close IRP completed after the receives it admitted: %v", closeLast)
	t.say("every CloseSocket returned %v and completed %v: %v", irp.Pending, irp.Success, closeOK)
	t.say("every peer read ECONNRESET (or EPIPE): %v", peerReset)
	t.say("a Receive after the close completed: %v", afterClose)
	return nil
}

// errText is "ok" or the error's name.
func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return errName(err)
}
