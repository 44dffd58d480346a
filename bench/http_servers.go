package main

// The http suite's servers: net/http's hello world on a stdlib listener ("stdlib") and
// on a gowsk listener ("gowsk", wsk/netconn), and fasthttp on a stdlib listener
// ("fasthttp"), the choice of a performance-minded user. Each answers GET /N with N
// bytes and a Content-Length (so 4 KiB is not chunked), keeps connections alive, and
// runs alone in its process (`httpserve`), pinned like the echo servers.

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
	"github.com/gowsk/gowsk/wsk/netconn"
)

// httpServerNames are the http suite's servers, stdlib first (the ratios' base).
var httpServerNames = []string{"stdlib", "gowsk", "fasthttp"}

// httpBody returns the response body for a path "/N" (N ≤ 1 MiB), nil if bad.
func httpBody(path string) []byte {
	if len(path) < 2 || path[0] != '/' {
		return nil
	}
	n, err := strconv.Atoi(path[1:])
	if err != nil || n < 0 || n > 1<<20 {
		return nil
	}
	return bodies.get(n)
}

// bodies caches the two payloads of the suite (and any other size asked for).
var bodies = newBodyCache()

type bodyCache struct{ m map[int][]byte }

func newBodyCache() *bodyCache {
	c := &bodyCache{m: map[int][]byte{}}
	for _, n := range []int{64, 4096} {
		c.m[n] = makeBody(n)
	}
	return c
}

func (c *bodyCache) get(n int) []byte {
	if b, ok := c.m[n]; ok {
		return b
	}
	return makeBody(n) // not on the measured path
}

func makeBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}

func netHTTPHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := httpBody(r.URL.Path)
		if b == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	})
}

// serveNetHTTP runs net/http on ln until stop; Shutdown then Close.
func serveNetHTTP(ln net.Listener, ready func(string), stop <-chan struct{}) error {
	srv := &http.Server{Handler: netHTTPHandler(), ReadHeaderTimeout: time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	ready(ln.Addr().String())
	<-stop
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if srv.Shutdown(ctx) != nil {
		srv.Close()
	}
	if err := <-errc; err != http.ErrServerClosed {
		return err
	}
	return nil
}

func serveHTTPImpl(impl, addr string, ready func(string), stop <-chan struct{}) error {
	switch impl {
	case "stdlib":
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		return serveNetHTTP(ln, ready, stop)
	case "gowsk":
		reg, st := wsk.Register(&wsk.ClientNPI{Dispatch: &dispatch.ClientDispatch{Version: dispatch.MakeVersion(1, 0)}},
			wsk.WithLoops(runtime.GOMAXPROCS(0)), wsk.WithLimits(wskServerLimits))
		if st != irp.Success {
			return fmt.Errorf("wsk.Register: %v", st)
		}
		defer reg.Deregister()
		p, err := netconn.New(reg, netconn.Options{MaxClosing: 1 << 16})
		if err != nil {
			return err
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			p.Shutdown(ctx)
		}()
		ln, err := p.Listen("tcp", addr)
		if err != nil {
			return err
		}
		return serveNetHTTP(ln, ready, stop)
	case "fasthttp":
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
			b := httpBody(string(ctx.Path()))
			if b == nil {
				ctx.NotFound()
				return
			}
			ctx.SetBody(b)
		}, Concurrency: 1 << 20}
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		ready(ln.Addr().String())
		<-stop
		srv.Shutdown()
		return <-errc
	}
	return fmt.Errorf("unknown http server %q (known: %v)", impl, httpServerNames)
}

// httpServeMain is the `httpserve` mode: as `serve`, for the http suite's servers.
func httpServeMain(args []string) int {
	fs := flag.NewFlagSet("httpserve", flag.ContinueOnError)
	impl := fs.String("impl", "stdlib", "http server: stdlib, gowsk, fasthttp")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	prof := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	raiseNofile()
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			fmt.Fprintln(os.Stderr, "httpserve:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "httpserve:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	stop := make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; close(stop) }()
	err := serveHTTPImpl(*impl, *addr, func(bound string) { fmt.Printf("listening on %s\n", bound) }, stop)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpserve:", err)
		return 1
	}
	return 0
}
