package main

// The http suite's own loader (`httpload`): N keep-alive HTTP/1.1 connections, each a
// closed loop of GET /payload → read the whole response, as the echo loader does for
// echo. Protocol with the driver:
//
//	load → "warmed N ERRS FDLIMITED"  every connection dialled and served one request:
//	                                  the server now holds N idle keep-alive connections
//	driver → any line on stdin        start traffic
//	load → "measuring"                warmup over, measurement window open
//	load → "result {json}"            window closed

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"
)

func httpLoadMain(args []string) int {
	fs := flag.NewFlagSet("httpload", flag.ContinueOnError)
	target := fs.String("target", "", "server HOST:PORT")
	conns := fs.Int("conns", 100, "connections")
	payload := fs.Int("payload", 64, "response body bytes")
	dur := fs.Duration("duration", 5*time.Second, "measurement window")
	warm := fs.Duration("warmup", time.Second, "warmup before measuring")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *target == "" || *conns <= 0 || *payload < 0 {
		fmt.Fprintln(os.Stderr, "httpload: -target, positive -conns required")
		return 2
	}
	raiseNofile()
	stdin := bufio.NewReader(os.Stdin)
	cs, dialErrs, fdLim := dialAll(*target, *conns)
	req := []byte("GET /" + strconv.Itoa(*payload) + " HTTP/1.1\r\nHost: bench\r\n\r\n")
	hcs := make([]*httpClientConn, 0, len(cs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	warmErrs := 0
	sem := make(chan struct{}, 64)
	for _, c := range cs {
		hc := &httpClientConn{c: c, br: bufio.NewReaderSize(c, 16<<10), req: req}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			err := hc.roundTrip(*payload)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				warmErrs++
				c.Close()
				return
			}
			hcs = append(hcs, hc)
		}()
	}
	wg.Wait()
	fmt.Printf("warmed %d %d %v\n", len(hcs), dialErrs+warmErrs, fdLim)
	_, _ = stdin.ReadString('\n')
	res := loadResult{Conns: *conns, Dialled: len(hcs), Errors: uint64(dialErrs + warmErrs), FDLimited: fdLim}
	runHTTPLoad(hcs, *payload, *warm, *dur, &res)
	for _, hc := range hcs {
		hc.c.Close()
	}
	printResult(res)
	return 0
}

// httpClientConn is one keep-alive connection of the loader.
type httpClientConn struct {
	c   net.Conn
	br  *bufio.Reader
	req []byte
}

var errBadResponse = errors.New("httpload: bad response")

// roundTrip sends one request and reads the response: status line, headers up to the
// blank line (Content-Length taken from them), then the body.
func (h *httpClientConn) roundTrip(want int) error {
	if _, err := h.c.Write(h.req); err != nil {
		return err
	}
	line, err := h.br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200")) {
		return errBadResponse
	}
	n := -1
	for {
		line, err = h.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := headerValue(line, "content-length"); ok {
			if n, err = strconv.Atoi(string(v)); err != nil {
				return errBadResponse
			}
		}
	}
	if n != want {
		return errBadResponse
	}
	_, err = h.br.Discard(n)
	return err
}

// headerValue returns the value of line if it is the header name (any case).
func headerValue(line []byte, name string) ([]byte, bool) {
	k := bytes.IndexByte(line, ':')
	if k != len(name) || !bytes.EqualFold(line[:k], []byte(name)) {
		return nil, false
	}
	return bytes.TrimSpace(line[k+1:]), true
}

// runHTTPLoad is runEcho's closed loop with HTTP requests.
func runHTTPLoad(hcs []*httpClientConn, payload int, warm, dur time.Duration, res *loadResult) {
	runLoad(len(hcs), warm, dur, res, func(i int, w loadWindow, h *hist) (n, e uint64) {
		hc := hcs[i]
		_ = hc.c.SetDeadline(w.end.Add(5 * time.Second))
		for {
			t0 := time.Now()
			if !t0.Before(w.end) {
				return n, e
			}
			if err := hc.roundTrip(payload); err != nil {
				if !errors.Is(err, os.ErrDeadlineExceeded) && err != io.EOF {
					e++
				}
				return n, e
			}
			if !t0.Before(w.measureAt) {
				h.record(time.Since(t0))
				n++
			}
		}
	})
}
