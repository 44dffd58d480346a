package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/gowsk/gowsk/wsk/winsock"
)

// tourWinsock is the second tour (-api winsock without -listen): the Winsock close paths
// of package wsk/winsock, each step printing what the application got and what a plain
// net.Conn peer read. No ports and no timings appear, so a test pins it in full.
func tourWinsock(w io.Writer) error {
	ws, _, err := winsock.WSAStartup(winsock.MakeWord(2, 2))
	if err != nil {
		return err
	}
	th, err := ws.OpenThread()
	if err != nil {
		_ = ws.WSACleanup()
		return err
	}
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		_ = ws.CloseThread(th)
		_ = ws.WSACleanup()
		return err
	}
	t := &wsTour{w: w, ws: ws, th: th, ln: ln}
	fmt.Fprintln(w, "A Winsock session (package wsk/winsock: SOCKETs over wsk) and a plain net.Conn")
	fmt.Fprintln(w, "peer. Each step: what the application called and got, and what the peer read.")
	for _, step := range []func() error{t.background, t.hard, t.lingerExpires, t.nonblocking,
		t.shutdownSend, t.duplicate, t.pendingOverlapped} {
		if err = step(); err != nil {
			break
		}
	}
	ln.Close()
	_ = ws.CloseThread(th)
	if e := ws.WSACleanup(); err == nil {
		err = e
	}
	fmt.Fprintf(w, "WSACleanup -> %s; resets by cause: linger expiry %d, late data %d, FIN timeout %d\n",
		result(err), ws.Stats().ResetsLingerExpiry, ws.Stats().ResetsLateData, ws.Stats().ResetsFINTimeout)
	return err
}

type wsTour struct {
	w  io.Writer
	ws *winsock.WSA
	th *winsock.Thread
	ln *net.TCPListener
}

func (t *wsTour) say(format string, args ...any) { fmt.Fprintf(t.w, "   "+format+"\n", args...) }

// connect makes a SOCKET connected to a fresh peer; the peer's receive buffer is small,
// so that a large send stays queued while the peer does not read.
func (t *wsTour) connect() (winsock.Socket, *net.TCPConn, error) {
	s, err := t.th.Socket(winsock.AFInet, winsock.SockStream, winsock.IPProtoTCP)
	if err != nil {
		return 0, nil, err
	}
	if err := t.th.Connect(s, t.ln.Addr().(*net.TCPAddr).AddrPort()); err != nil {
		return 0, nil, err
	}
	_ = t.ln.SetDeadline(time.Now().Add(peerDeadline))
	c, err := t.ln.AcceptTCP()
	if err != nil {
		return 0, nil, err
	}
	_ = c.SetReadBuffer(64 << 10)
	return s, c, nil
}

// drain reads the peer to the end: the byte count and how the stream ended.
func drainPeer(c net.Conn) (int, string) {
	_ = c.SetReadDeadline(time.Now().Add(peerDeadline))
	b := make([]byte, 256<<10)
	n := 0
	for {
		k, err := c.Read(b)
		n += k
		if err != nil {
			return n, errName(err)
		}
	}
}

func (t *wsTour) setLinger(s winsock.Socket, on, secs uint16) {
	err := t.th.Setsockopt(s, winsock.SOLSocket, winsock.SOLinger, winsock.Linger{OnOff: on, Linger: secs}.Bytes())
	t.say("app:  setsockopt(SO_LINGER {%d,%d}) -> %s", on, secs, result(err))
}

func (t *wsTour) fill(s winsock.Socket, n int) *winsock.Overlapped {
	ov := &winsock.Overlapped{Event: winsock.WSACreateEvent()}
	_, err := t.th.WSASend(s, [][]byte{make([]byte, n)}, 0, ov, nil)
	t.say("app:  WSASend of %d bytes, overlapped -> %s", n, result(err))
	return ov
}

func (t *wsTour) background() error {
	fmt.Fprintln(t.w, "== 1. closesocket with the default linger {0,*}: at once; data and FIN follow")
	s, peer, err := t.connect()
	if err != nil {
		return err
	}
	defer peer.Close()
	ov := t.fill(s, 8_000_000)
	t.say("app:  closesocket -> %s (the peer has not read anything yet)", result(t.th.Closesocket(s)))
	n, end := drainPeer(peer)
	t.say("peer: read %d bytes, then %s", n, end)
	_, _, err = t.th.WSAGetOverlappedResult(s, ov, true)
	t.say("app:  the pending WSASend completed -> %s (its bytes went out as queued data)", result(err))
	peer.Close()
	t.waitBackground()
	t.say("the background close ended when the peer's FIN came: graceful closes %d, resets %d",
		t.ws.Stats().ClosesGraceful, t.ws.Stats().ClosesReset)
	return nil
}

// waitBackground waits (bounded) until no close runs in the background.
func (t *wsTour) waitBackground() {
	for deadline := time.Now().Add(peerDeadline); t.ws.Stats().BackgroundCloses > 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
}

func (t *wsTour) hard() error {
	fmt.Fprintln(t.w, "== 2. linger {1,0}: a hard close, RST at once, no TIME_WAIT")
	s, peer, err := t.connect()
	if err != nil {
		return err
	}
	defer peer.Close()
	t.setLinger(s, 1, 0)
	t.say("app:  closesocket -> %s", result(t.th.Closesocket(s)))
	t.say("peer: read: %s", peerReadEnd(peer))
	return nil
}

func (t *wsTour) lingerExpires() error {
	fmt.Fprintln(t.w, "== 3. linger {1,1}, the peer not reading: closesocket waits, resets, returns 0")
	s, peer, err := t.connect()
	if err != nil {
		return err
	}
	defer peer.Close()
	t.setLinger(s, 1, 1)
	t.fill(s, 8_000_000)
	start := time.Now()
	err = t.th.Closesocket(s)
	t.say("app:  closesocket -> %s, after waiting the linger time: %v", result(err), time.Since(start) >= 900*time.Millisecond)
	_, end := drainPeer(peer)
	t.say("peer: read some bytes, then %s", end)
	return nil
}

func (t *wsTour) nonblocking() error {
	fmt.Fprintln(t.w, "== 4. nonblocking, linger {1,5}, data not delivered: WSAEWOULDBLOCK, SOCKET kept")
	s, peer, err := t.connect()
	if err != nil {
		return err
	}
	defer peer.Close()
	t.setLinger(s, 1, 5)
	t.fill(s, 8_000_000)
	on := uint32(1)
	t.say("app:  ioctlsocket(FIONBIO 1) -> %s", result(t.th.Ioctlsocket(s, winsock.FIONBIO, &on)))
	t.say("app:  closesocket -> %s", result(t.th.Closesocket(s)))
	t.say("app:  closesocket again -> %s", result(t.th.Closesocket(s)))
	_, err = t.th.GetSockName(s)
	t.say("app:  getsockname -> %s (still a SOCKET)", result(err))
	t.setLinger(s, 1, 0)
	t.say("app:  closesocket -> %s", result(t.th.Closesocket(s)))
	_, end := drainPeer(peer)
	t.say("peer: read some bytes, then %s (no FIN came first)", end)
	return nil
}

func (t *wsTour) shutdownSend() error {
	fmt.Fprintln(t.w, "== 5. shutdown(SD_SEND): FIN after the data; sends refused, receives go on")
	s, peer, err := t.connect()
	if err != nil {
		return err
	}
	defer peer.Close()
	_, err = t.th.Send(s, []byte("bye"), 0)
	t.say("app:  send \"bye\" -> %s", result(err))
	t.say("app:  shutdown(SD_SEND) -> %s", result(t.th.Shutdown(s, winsock.SDSend)))
	_, err = t.th.Send(s, []byte("more"), 0)
	t.say("app:  send -> %s", result(err))
	t.say("peer: read %s, then %s", peerReadN(peer, 3), peerReadEnd(peer))
	_, _ = peer.Write([]byte("answer"))
	b := make([]byte, 16)
	n, err := t.th.Recv(s, b, 0)
	t.say("app:  recv -> %s %q", result(err), b[:n])
	t.say("app:  shutdown(7) -> %s", result(t.th.Shutdown(s, 7)))
	peer.Close()
	t.say("app:  closesocket -> %s", result(t.th.Closesocket(s)))
	t.waitBackground()
	return nil
}

func (t *wsTour) duplicate() error {
	fmt.Fprintln(t.w, "== 6. A duplicated SOCKET: a non-last close sends nothing; the last one lingers")
	s, peer, err := t.connect()
	if err != nil {
		return err
	}
	defer peer.Close()
	info, err := t.th.WSADuplicateSocket(s, uint32(os.Getpid()))
	t.say("app:  WSADuplicateSocket -> %s", result(err))
	f := winsock.FromProtocolInfo
	d, err := t.th.WSASocket(f, f, f, &info, winsock.WSAFlagOverlapped)
	t.say("app:  WSASocket(FROM_PROTOCOL_INFO) -> %s", result(err))
	_, err = t.th.WSASocket(f, f, f, &info, winsock.WSAFlagOverlapped)
	t.say("app:  WSASocket(FROM_PROTOCOL_INFO) with the same info -> %s (single use)", result(err))
	t.say("app:  closesocket(original) -> %s", result(t.th.Closesocket(s)))
	_ = peer.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err = peer.Read(make([]byte, 1))
	t.say("peer: read: %s (nothing was sent)", errName(err))
	_, err = t.th.Send(d, []byte("via the duplicate"), 0)
	t.say("app:  send on the duplicate -> %s", result(err))
	t.say("app:  closesocket(duplicate), the last: default linger -> %s", result(t.th.Closesocket(d)))
	n, end := drainPeer(peer)
	t.say("peer: read %d bytes, then %s", n, end)
	peer.Close()
	t.waitBackground()
	return nil
}

func (t *wsTour) pendingOverlapped() error {
	fmt.Fprintln(t.w, "== 7. closesocket with overlapped receives pending (completion routines)")
	s, peer, err := t.connect()
	if err != nil {
		return err
	}
	defer peer.Close()
	var ran, aborted atomic.Int32
	cr := func(e winsock.WSAError, _ uint32, _ *winsock.Overlapped, _ uint32) {
		ran.Add(1)
		if e == 995 {
			aborted.Add(1)
		}
	}
	for range 3 {
		_, err := t.th.WSARecv(s, [][]byte{make([]byte, 64)}, nil, &winsock.Overlapped{}, cr)
		t.say("app:  WSARecv with a completion routine -> %s", result(err))
	}
	t.say("app:  closesocket -> %s; routines run so far: %d (no alertable point yet)", result(t.th.Closesocket(s)), ran.Load())
	r := t.th.SleepEx(peerDeadline, true)
	t.say("app:  SleepEx(alertable) -> WAIT_IO_COMPLETION: %v; routines run: %d, with WSA_OPERATION_ABORTED: %d",
		r == winsock.WaitIOCompletion, ran.Load(), aborted.Load())
	t.say("peer: read: %s", peerReadEnd(peer))
	peer.Close()
	t.waitBackground()
	return nil
}
