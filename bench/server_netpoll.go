package main

import (
	"context"
	"time"

	"github.com/cloudwego/netpoll"
)

// netpollServer follows netpoll's README: CreateListener, NewEventLoop
// with an OnRequest handler that drains the Reader into the Writer and
// flushes.
type netpollServer struct{}

func init() { register("netpoll", func() EchoServer { return netpollServer{} }) }

func (netpollServer) Serve(addr string, ready func(string), stop <-chan struct{}) error {
	ln, err := netpoll.CreateListener("tcp", addr)
	if err != nil {
		return err
	}
	onRequest := func(_ context.Context, c netpoll.Connection) error {
		r, w := c.Reader(), c.Writer()
		n := r.Len()
		if n == 0 {
			return nil
		}
		buf, err := r.Next(n)
		if err != nil {
			return err
		}
		if _, err := w.WriteBinary(buf); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		return r.Release()
	}
	loop, err := netpoll.NewEventLoop(onRequest)
	if err != nil {
		ln.Close()
		return err
	}
	done := make(chan error, 1)
	go func() { done <- loop.Serve(ln) }()
	ready(ln.Addr().String())
	select {
	case err := <-done:
		return err
	case <-stop:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = loop.Shutdown(ctx)
	<-done
	return nil
}
