package netconn_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/wsk/netconn"
)

// newGowskServer starts an httptest server whose listener is a gowsk one.
func newGowskServer(t *testing.T, h http.Handler, tlsOn bool) *httptest.Server {
	t.Helper()
	ln, err := netconn.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	if tlsOn {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

// gowskTransport dials with gowsk.
func gowskTransport() *http.Transport {
	d := &netconn.Dialer{Timeout: 10 * time.Second}
	return &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4}
}

// testHandler serves the cases of TestHTTP:
//
//	/hello     "hello"
//	/chunked   three flushed chunks (Transfer-Encoding: chunked)
//	/count     the request body's length
func testHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		for k := range 3 {
			fmt.Fprintf(w, "chunk%d;", k)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		io.WriteString(w, strconv.FormatInt(n, 10))
	})
	return mux
}

// TestHTTP: a net/http server on a gowsk listener, with a stdlib client and with a
// client whose transport dials with gowsk: keep-alive, Connection: close, chunked
// bodies, request bodies larger than the socket buffers.
func TestHTTP(t *testing.T) {
	srv := newGowskServer(t, testHandler(), false)
	for name, tr := range map[string]*http.Transport{"stdlib-client": {}, "gowsk-client": gowskTransport()} {
		t.Run(name, func(t *testing.T) {
			defer tr.CloseIdleConnections()
			cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			get := func(path string, close bool) (string, bool) {
				req, err := http.NewRequest("GET", srv.URL+path, nil)
				require.NoError(t, err)
				req.Close = close
				var reused bool
				req = req.WithContext(httptrace.WithClientTrace(req.Context(),
					&httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}))
				resp, err := cl.Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				return string(b), reused
			}
			body, _ := get("/hello", false)
			require.Equal(t, "hello", body)
			body, reused := get("/hello", false)
			require.Equal(t, "hello", body)
			require.True(t, reused, "keep-alive reuses the connection")
			body, _ = get("/hello", true) // Connection: close
			require.Equal(t, "hello", body)
			body, reused = get("/hello", false)
			require.Equal(t, "hello", body)
			require.False(t, reused, "after Connection: close a new connection")
			body, _ = get("/chunked", false)
			require.Equal(t, "chunk0;chunk1;chunk2;", body)

			big := bytes.Repeat([]byte("b"), 8<<20)
			resp, err := cl.Post(srv.URL+"/count", "application/octet-stream", bytes.NewReader(big))
			require.NoError(t, err)
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			require.Equal(t, strconv.Itoa(len(big)), string(b))

			// A chunked request body.
			pr, pw := io.Pipe()
			go func() {
				for range 64 {
					pw.Write(bytes.Repeat([]byte("c"), 64<<10))
				}
				pw.Close()
			}()
			resp, err = cl.Post(srv.URL+"/count", "application/octet-stream", pr)
			require.NoError(t, err)
			b, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			require.Equal(t, strconv.Itoa(64*64<<10), string(b))
		})
	}
}

// TestHTTPShutdown: Server.Shutdown with one idle and one active connection: the idle
// one is closed, the active request finishes, Shutdown returns nil.
func TestHTTPShutdown(t *testing.T) {
	ln, err := netconn.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	entered, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "slow done")
	})
	mux.Handle("/", testHandler())
	hs := &http.Server{Handler: mux}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	url := "http://" + ln.Addr().String()

	idleTr, activeTr := gowskTransport(), &http.Transport{}
	defer idleTr.CloseIdleConnections()
	defer activeTr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: idleTr}).Get(url + "/hello")
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close() // now an idle keep-alive connection

	slow := make(chan string, 1)
	go func() {
		resp, err := (&http.Client{Transport: activeTr}).Get(url + "/slow")
		if !assert.NoError(t, err) {
			slow <- ""
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- string(b)
	}()
	<-entered
	shut := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() { shut <- hs.Shutdown(ctx) }()
	time.Sleep(50 * time.Millisecond)
	close(release)
	require.Equal(t, "slow done", <-slow)
	require.NoError(t, <-shut)
	require.ErrorIs(t, <-served, http.ErrServerClosed)
}

// TestHTTPClientGoneMidRequest: a client that disconnects while its request body is
// still coming: the handler's body read fails, the server goes on serving.
func TestHTTPClientGoneMidRequest(t *testing.T) {
	var failed atomic.Int32
	gotHeaders := make(chan struct{}, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		gotHeaders <- struct{}{}
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			failed.Add(1)
		}
	})
	mux.Handle("/", testHandler())
	srv := newGowskServer(t, mux, false)
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	_, err = io.WriteString(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\npartial")
	require.NoError(t, err)
	<-gotHeaders
	require.NoError(t, c.Close())
	require.Eventually(t, func() bool { return failed.Load() == 1 }, 10*time.Second, 5*time.Millisecond)
	resp, err := http.Get(srv.URL + "/hello")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, "hello", string(b))
}

// TestHTTP2OverTLS: net/http's own HTTP/2 over crypto/tls on a gowsk listener, with the
// test server's client and with a client dialling through gowsk.
func TestHTTP2OverTLS(t *testing.T) {
	srv := newGowskServer(t, testHandler(), true)
	check := func(cl *http.Client) {
		resp, err := cl.Get(srv.URL + "/hello")
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, "hello", string(b))
		require.Equal(t, 2, resp.ProtoMajor, "HTTP/2 negotiated by ALPN")
	}
	check(srv.Client())
	tr := gowskTransport()
	tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	tr.ForceAttemptHTTP2 = true
	defer tr.CloseIdleConnections()
	check(&http.Client{Transport: tr})
}

// TestTLS: crypto/tls server and client, both on gowsk conns.
func TestTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.StartTLS() // only for its certificate and client config
	cfg := srv.TLS.Clone()
	clientCfg := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	clientCfg.ServerName = "example.com"
	srv.Close()

	a, b := gowskPair(t)
	server := tls.Server(b, cfg)
	client := tls.Client(a, clientCfg)
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 5)
		_, err := io.ReadFull(server, buf)
		if err == nil {
			_, err = server.Write([]byte(strings.ToUpper(string(buf))))
		}
		done <- err
	}()
	_, err := client.Write([]byte("hello"))
	require.NoError(t, err)
	buf := make([]byte, 5)
	_, err = io.ReadFull(client, buf)
	require.NoError(t, err)
	require.Equal(t, "HELLO", string(buf))
	require.NoError(t, <-done)
	require.NoError(t, client.Close())
	require.NoError(t, server.Close())
}
