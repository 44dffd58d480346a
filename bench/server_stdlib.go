package main

import (
	"net"
	"sync"
)

// stdlibServer is goroutine-per-connection over net, the reference.
type stdlibServer struct{}

func init() { register("stdlib", func() EchoServer { return stdlibServer{} }) }

func (stdlibServer) Serve(addr string, ready func(string), stop <-chan struct{}) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	var (
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
		wg    sync.WaitGroup
	)
	go func() {
		<-stop
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	ready(ln.Addr().String())
	for {
		c, err := ln.Accept()
		if err != nil {
			select {
			case <-stop:
				wg.Wait()
				return nil
			default:
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			// EMFILE and friends: keep serving, the load side reports.
			continue
		}
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					if _, werr := c.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil { // io.EOF or reset: the client is gone
					break
				}
			}
			c.Close()
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		}()
	}
}
