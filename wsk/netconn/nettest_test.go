package netconn_test

import (
	"net"
	"testing"

	"golang.org/x/net/nettest"

	"github.com/gowsk/gowsk/wsk/netconn"
)

// listenFunc and dialFunc pick the side each pair is made of: gowsk or package net.
type (
	listenFunc func(network, address string) (net.Listener, error)
	dialFunc   func(network, address string) (net.Conn, error)
)

// makePipe returns nettest's MakePipe for a listener and a dialer: c1 is the dialled
// end, c2 the accepted one; stop closes both and the listener.
func makePipe(listen listenFunc, dial dialFunc) nettest.MakePipe {
	return func() (c1, c2 net.Conn, stop func(), err error) {
		ln, err := listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, nil, err
		}
		type res struct {
			c   net.Conn
			err error
		}
		ch := make(chan res, 1)
		go func() {
			c, err := ln.Accept()
			ch <- res{c, err}
		}()
		c1, err = dial("tcp", ln.Addr().String())
		if err != nil {
			ln.Close()
			<-ch
			return nil, nil, nil, err
		}
		r := <-ch
		if r.err != nil {
			c1.Close()
			ln.Close()
			return nil, nil, nil, r.err
		}
		c2 = r.c
		stop = func() {
			c1.Close()
			c2.Close()
			ln.Close()
		}
		return c1, c2, stop, nil
	}
}

// TestNettest runs x/net's conformance suite (TESTING.md case 45) on a gowsk pair and
// on mixed gowsk/net pairs both ways.
func TestNettest(t *testing.T) {
	t.Run("gowsk-gowsk", func(t *testing.T) { nettest.TestConn(t, makePipe(netconn.Listen, netconn.Dial)) })
	t.Run("gowsk-listen-net-dial", func(t *testing.T) { nettest.TestConn(t, makePipe(netconn.Listen, net.Dial)) })
	t.Run("net-listen-gowsk-dial", func(t *testing.T) { nettest.TestConn(t, makePipe(net.Listen, netconn.Dial)) })
}
