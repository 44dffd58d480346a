package main

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/gowsk/gowsk/wsk/winsock"
)

// runWinsock is -listen with -api winsock: the same line protocol, but every
// connection is a SOCKET of package wsk/winsock (blocking, default linger, as accept
// returns it), with the Winsock commands of winsock_session.go. Its first line is
// "listening on HOST:PORT"; on ctx's end it closes the listener (the blocked accept
// returns WSAEINTR), closes every connection still open and runs WSACleanup.
func runWinsock(ctx context.Context, addr string, stdout io.Writer) error {
	local, err := parseListenAddr(addr)
	if err != nil {
		return err
	}
	w, _, err := winsock.WSAStartup(winsock.MakeWord(2, 2))
	if err != nil {
		return err
	}
	th, err := w.OpenThread()
	if err != nil {
		_ = w.WSACleanup()
		return err
	}
	af := winsock.AFInet
	if local.Addr().Is6() {
		af = winsock.AFInet6
	}
	ls, err := th.Socket(af, winsock.SockStream, winsock.IPProtoTCP)
	if err == nil {
		err = th.Bind(ls, local)
	}
	if err == nil {
		err = th.Listen(ls, winsock.SOMaxConn)
	}
	bound, _ := th.GetSockName(ls)
	if err != nil {
		_ = w.CloseThread(th)
		_ = w.WSACleanup()
		return err
	}
	log := &logger{w: stdout}
	log.printf("listening on %s", bound)

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	reg := &sessions{open: map[*wsSession]struct{}{}}
	stopped := make(chan struct{})
	go func() { // the shutdown: close the listener from a thread context of its own
		<-ctx.Done()
		if t2, err := w.OpenThread(); err == nil {
			log.printf("shutting down: closesocket(listener) %s", result(t2.Closesocket(ls)))
			_ = w.CloseThread(t2)
		}
		close(stopped)
	}()
	var conns sync.WaitGroup
	for id := 1; ; id++ {
		s, remote, err := th.Accept(ls)
		if err != nil {
			if ctx.Err() == nil {
				log.printf("accept %s", result(err))
				stop()
			}
			break
		}
		c := &wsSession{id: id, w: w, log: log}
		c.s.Store(uint64(s))
		reg.add(c)
		conns.Add(1)
		go func() {
			defer conns.Done()
			defer reg.remove(c)
			c.serve(remote)
		}()
	}
	<-stopped
	reg.closeAll(w) // their blocked recv returns WSAEINTR
	conns.Wait()
	_ = w.CloseThread(th)
	err = w.WSACleanup()
	st := w.Stats()
	log.printf("WSACleanup: sockets open %d, background closes %d", st.Sockets, st.BackgroundCloses)
	return err
}

// sessions is the set of connections being served, for the shutdown.
type sessions struct {
	mu   sync.Mutex
	open map[*wsSession]struct{}
}

func (r *sessions) add(c *wsSession) {
	r.mu.Lock()
	r.open[c] = struct{}{}
	r.mu.Unlock()
}

func (r *sessions) remove(c *wsSession) {
	r.mu.Lock()
	delete(r.open, c)
	r.mu.Unlock()
}

// closeAll closes the current SOCKET of every session with linger {1,0}.
func (r *sessions) closeAll(w *winsock.WSA) {
	t, err := w.OpenThread()
	if err != nil {
		return
	}
	defer w.CloseThread(t)
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.open {
		s := c.current()
		_ = t.Setsockopt(s, winsock.SOLSocket, winsock.SOLinger, winsock.Linger{OnOff: 1}.Bytes())
		_ = t.Closesocket(s)
	}
}

// result names what a Winsock call returned: "ok", or the WSA code by name and number.
func result(err error) string {
	if err == nil {
		return "ok"
	}
	c := winsock.CodeOf(err)
	return fmt.Sprintf("%s %d", winsock.CodeName(c), int(c))
}
