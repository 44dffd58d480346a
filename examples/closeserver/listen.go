package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"

	"github.com/gowsk/gowsk/irp"
)

// logger serialises the -listen server's stdout: connections log from their own
// goroutines, and each line must come out whole.
type logger struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *logger) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", args...)
}

// run is -listen: it serves the line protocol on addr until ctx ends (main ends it on
// SIGINT or SIGTERM), then closes the listener, cancels the connections' pending IRPs
// and closes their sockets, and deregisters, which returns only once every socket is
// closed. Its first line on stdout is exactly "listening on HOST:PORT" with the bound
// address. It returns an error when it could not start or the listener died.
func run(ctx context.Context, addr string, stdout io.Writer) error {
	local, err := parseListenAddr(addr)
	if err != nil {
		return err
	}
	p, err := openProvider(local)
	if err != nil {
		return err
	}
	log := &logger{w: stdout}
	log.printf("listening on %s", p.addr)

	// stop ends the connections too when the listener dies on its own.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var conns sync.WaitGroup
	var failed error
	for id := 1; ctx.Err() == nil; {
		s, remote, st := p.accept(ctx)
		switch {
		case st == irp.Success:
			c := &session{id: id, s: s, p: p, log: log}
			id++
			conns.Add(1)
			go func() {
				defer conns.Done()
				c.serve(ctx, remote)
			}()
		case ctx.Err() != nil: // the Accept IRP was cancelled by the shutdown
		case st == irp.FileForcedClosed:
			failed = fmt.Errorf("accept: %v: the listener is gone", st)
			stop()
		default: // one connection failed (resources): the listener goes on
			log.printf("accept: %v", st)
		}
	}
	log.printf("shutting down: closing the listener and every connection")
	conns.Wait()
	p.shutdown()
	stats := p.reg.Stats()
	log.printf("deregistered: sockets open %d, IRPs pending %d", stats.SocketsOpen, stats.IRPsPending)
	return failed
}

// parseListenAddr takes "IP:PORT" (port 0 picks a free one) or a host name that resolves
// to one address; an empty host means every IPv4 address. IPv4-mapped IPv6 addresses
// become plain IPv4 ones.
func parseListenAddr(addr string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("-listen %q: %w", addr, err)
	}
	ap := ta.AddrPort()
	if !ap.Addr().IsValid() {
		ap = netip.AddrPortFrom(netip.IPv4Unspecified(), ap.Port())
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}
