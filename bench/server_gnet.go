package main

import (
	"context"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// gnetServer is gnet v2's documented echo: embed BuiltinEventEngine,
// OnTraffic takes everything buffered with Next(-1) and Writes it back.
type gnetServer struct {
	gnet.BuiltinEventEngine
	eng   gnet.Engine
	ready func(string)
	addr  string
}

func init() { register("gnet", func() EchoServer { return &gnetServer{} }) }

func (s *gnetServer) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	s.ready(s.addr)
	return gnet.None
}

func (s *gnetServer) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	_, _ = c.Write(buf)
	return gnet.None
}

func (s *gnetServer) Serve(addr string, ready func(string), stop <-chan struct{}) error {
	bound, err := freePort(addr)
	if err != nil {
		return err
	}
	s.addr, s.ready = bound, ready
	booted := make(chan struct{})
	s.ready = func(a string) { close(booted); ready(a) }
	go func() {
		<-stop
		<-booted
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.eng.Stop(ctx)
	}()
	return gnet.Run(s, "tcp://"+bound, gnet.WithMulticore(true), gnet.WithReusePort(false))
}
