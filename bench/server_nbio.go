package main

import (
	"github.com/lesismal/nbio"
)

// nbioServer is nbio's README echo: an Engine with OnData writing the
// received bytes back.
type nbioServer struct{}

func init() { register("nbio", func() EchoServer { return nbioServer{} }) }

func (nbioServer) Serve(addr string, ready func(string), stop <-chan struct{}) error {
	bound, err := freePort(addr)
	if err != nil {
		return err
	}
	eng := nbio.NewEngine(nbio.Config{Network: "tcp", Addrs: []string{bound}})
	eng.OnData(func(c *nbio.Conn, data []byte) { _, _ = c.Write(data) })
	if err := eng.Start(); err != nil {
		return err
	}
	ready(bound)
	<-stop
	eng.Stop()
	return nil
}
