package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// waitBound bounds every wait of these tests, so a broken server fails a test instead
// of hanging it. It is not a timing assertion: a correct server answers at once.
const waitBound = 10 * time.Second

// sink is the -listen server's stdout in a test: it keeps the lines and wakes waiters.
type sink struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newSink() *sink { return &sink{changed: make(chan struct{})} }

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	close(s.changed)
	s.changed = make(chan struct{})
	return len(p), nil
}

// lines returns the complete lines written so far.
func (s *sink) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	text, _ := strings.CutSuffix(s.buf.String(), "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

// waitFor returns the first line that has prefix, waiting for it to be written.
func (s *sink) waitFor(t *testing.T, prefix string) string {
	t.Helper()
	deadline := time.After(waitBound)
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		for _, l := range s.lines() {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no line starting with %q in the server's output:\n%s", prefix, strings.Join(s.lines(), "\n"))
		}
	}
}

// server is a -listen server running in-process, as run is called by main.
type server struct {
	addr string
	out  *sink
	stop func() error // cancels run (as SIGINT does) and returns its result
}

// startServer runs run(ctx, "127.0.0.1:0", out) and reads the bound address from its first
// line. The server is stopped at the end of the test if the test did not stop it.
func startServer(t *testing.T) *server { t.Helper(); return startServing(t, run) }

// startServing is startServer for any serving function (run, runWinsock).
func startServing(t *testing.T, run func(context.Context, string, io.Writer) error) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := newSink()
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", out) }()
	var once sync.Once
	var result error
	srv := &server{out: out, stop: func() error {
		once.Do(func() {
			cancel()
			select {
			case result = <-done:
			case <-time.After(waitBound):
				t.Fatal("run did not return after its context ended")
			}
		})
		return result
	}}
	t.Cleanup(func() { require.NoError(t, srv.stop()) })
	first := out.waitFor(t, "listening on ")
	require.Equal(t, first, out.lines()[0], "the first line is the listening line")
	srv.addr = strings.TrimPrefix(first, "listening on ")
	return srv
}

// peer is a plain net client of the server.
type peer struct {
	t *testing.T
	c *net.TCPConn
	r *bufio.Reader
}

func (s *server) dial(t *testing.T) *peer {
	t.Helper()
	c, err := dialPeer(s.addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &peer{t: t, c: c, r: bufio.NewReader(c)}
}

func (p *peer) send(line string) {
	p.t.Helper()
	_, err := p.c.Write([]byte(line + "\n"))
	require.NoError(p.t, err)
}

// readLine returns the next line without its newline.
func (p *peer) readLine() string {
	p.t.Helper()
	require.NoError(p.t, p.c.SetReadDeadline(time.Now().Add(waitBound)))
	l, err := p.r.ReadString('\n')
	require.NoError(p.t, err, "reading a line (got %q)", l)
	return strings.TrimSuffix(l, "\n")
}

// end reads until the stream ends and names how: EOF, ECONNRESET, EPIPE, ... Bytes
// that come first are returned too.
func (p *peer) end() (string, []byte) {
	p.t.Helper()
	require.NoError(p.t, p.c.SetReadDeadline(time.Now().Add(waitBound)))
	var got []byte
	b := make([]byte, 512)
	for {
		n, err := p.r.Read(b)
		got = append(got, b[:n]...)
		if err != nil {
			return errName(err), got
		}
	}
}

// ask sends one line and returns the reply line.
func (p *peer) ask(line string) string {
	p.t.Helper()
	p.send(line)
	return p.readLine()
}

// stats asks a new connection for STATS.
func (s *server) stats(t *testing.T) map[string]any {
	t.Helper()
	p := s.dial(t)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(p.ask("STATS")), &m))
	p.c.Close()
	return m
}

func TestListenFirstLineIsTheBoundAddress(t *testing.T) {
	srv := startServer(t)
	ap, err := netip.ParseAddrPort(srv.addr)
	require.NoError(t, err)
	require.Equal(t, netip.MustParseAddr("127.0.0.1"), ap.Addr())
	require.NotZero(t, ap.Port(), "port 0 is replaced by the bound port")
}

func TestListenEcho(t *testing.T) {
	srv := startServer(t)
	p := srv.dial(t)
	require.Equal(t, "hello, gowsk", p.ask("ECHO hello, gowsk"))
	require.Equal(t, "", p.ask("ECHO "))
	// Pipelined commands, one write: each gets its reply, in order.
	p.send("ECHO one\nECHO two\r")
	require.Equal(t, "one", p.readLine())
	require.Equal(t, "two", p.readLine())
}

// CLOSE graceful: BYE, then the server's FIN; after the peer's FIN the server closes with
// no RST: the peer keeps reading EOF and the provider counts no reset.
func TestListenCloseGraceful(t *testing.T) {
	srv := startServer(t)
	p := srv.dial(t)
	p.send("CLOSE graceful")
	require.Equal(t, "BYE", p.readLine())
	how, rest := p.end()
	require.Equal(t, "EOF", how)
	require.Empty(t, rest)
	require.NoError(t, p.c.CloseWrite())
	log := srv.out.waitFor(t, "conn 1: CLOSE graceful:")
	require.Equal(t, `conn 1: CLOSE graceful: Disconnect("BYE\n") STATUS_SUCCESS, the peer's FIN after 0 more bytes, CloseSocket STATUS_SUCCESS`, log)
	how, _ = p.end()
	require.Equal(t, "EOF", how, "no reset after the close")
	require.EqualValues(t, 0, srv.stats(t)["resets_sent"])
}

// Bytes the peer sends after CLOSE graceful and before its FIN are read and dropped, so
// they do not turn the close into a reset either.
func TestListenCloseGracefulDropsLateBytes(t *testing.T) {
	srv := startServer(t)
	p := srv.dial(t)
	p.send("CLOSE graceful")
	require.Equal(t, "BYE", p.readLine())
	p.send("ECHO too late")
	require.NoError(t, p.c.CloseWrite())
	log := srv.out.waitFor(t, "conn 1: CLOSE graceful:")
	require.Contains(t, log, "the peer's FIN after 14 more bytes, CloseSocket STATUS_SUCCESS")
	how, _ := p.end()
	require.Equal(t, "EOF", how)
	require.EqualValues(t, 0, srv.stats(t)["resets_sent"])
}

func TestListenCloseAbortive(t *testing.T) {
	srv := startServer(t)
	p := srv.dial(t)
	require.Equal(t, "up", p.ask("ECHO up"))
	p.send("CLOSE abortive")
	how, rest := p.end()
	require.True(t, isReset(how), "the peer saw %s", how)
	require.Empty(t, rest)
	log := srv.out.waitFor(t, "conn 1: CLOSE abortive:")
	require.Equal(t, "conn 1: CLOSE abortive: Disconnect(WSK_FLAG_ABORTIVE) STATUS_SUCCESS, CloseSocket STATUS_SUCCESS", log)
	require.EqualValues(t, 1, srv.stats(t)["resets_sent"])
}

func TestListenCloseSocket(t *testing.T) {
	srv := startServer(t)
	p := srv.dial(t)
	p.send("CLOSE socket")
	how, rest := p.end()
	require.True(t, isReset(how), "the peer saw %s", how)
	require.Empty(t, rest)
	log := srv.out.waitFor(t, "conn 1: CLOSE socket:")
	require.Equal(t, "conn 1: CLOSE socket: CloseSocket STATUS_SUCCESS (still connected: reset)", log)
	require.EqualValues(t, 1, srv.stats(t)["resets_sent"])
}

func TestListenPend(t *testing.T) {
	srv := startServer(t)
	p := srv.dial(t)
	p.send("PEND 3")
	how, _ := p.end()
	require.True(t, isReset(how), "the peer saw %s", how)
	log := srv.out.waitFor(t, "conn 1: PEND 3:")
	require.Equal(t, "conn 1: PEND 3: 3 of 3 receive IRPs completed with STATUS_CANCELLED before the close IRP completed with STATUS_SUCCESS", log)
	st := srv.stats(t)
	require.EqualValues(t, 3, st["irps_cancelled"])
}

// PEND's largest count fits the provider's per-socket bound: all of them are admitted.
func TestListenPendMax(t *testing.T) {
	srv := startServer(t)
	p := srv.dial(t)
	p.send("PEND 1024")
	how, _ := p.end()
	require.True(t, isReset(how), "the peer saw %s", how)
	log := srv.out.waitFor(t, "conn 1: PEND 1024:")
	require.Contains(t, log, "1024 of 1024 receive IRPs completed with STATUS_CANCELLED before the close IRP")
}

func TestListenStats(t *testing.T) {
	srv := startServer(t)
	p := srv.dial(t)
	var st map[string]any
	require.NoError(t, json.Unmarshal([]byte(p.ask("STATS")), &st))
	for _, key := range []string{"captures", "sockets_open", "sockets_created", "sockets_closed",
		"irps_pending", "irps_completed", "irps_cancelled", "resets_sent", "limit_rejections", "misuse"} {
		require.Contains(t, st, key)
	}
	require.EqualValues(t, 2, st["sockets_open"], "the listener and this connection")
	require.EqualValues(t, 1, st["captures"])
	require.Equal(t, "still usable", p.ask("ECHO still usable"))
}

// Malformed input gets ERR and the connection stays usable, including after a line over
// the bound, which is skipped up to its newline.
func TestListenMalformed(t *testing.T) {
	srv := startServer(t)
	p := srv.dial(t)
	for _, in := range []string{"", "NOPE", "ECHO", "CLOSE", "CLOSE sideways", "PEND", "PEND 0",
		"PEND 1025", "PEND -1", "PEND three", "STATS now", strings.Repeat("x", maxLine+1)} {
		got := p.ask(in)
		require.True(t, strings.HasPrefix(got, "ERR "), "%.40q got %q", in, got)
		require.Equal(t, "ok", p.ask("ECHO ok"), "after %.40q", in)
	}
	require.Equal(t, "ERR line too long (more than 4096 bytes)", p.ask(strings.Repeat("y", 3*maxLine)))
	// A long line in pieces: one ERR, and the tail after the newline is the next line.
	_, err := p.c.Write([]byte(strings.Repeat("z", maxLine)))
	require.NoError(t, err)
	_, err = p.c.Write([]byte(strings.Repeat("z", 10) + "\nECHO resynced\n"))
	require.NoError(t, err)
	require.Equal(t, "ERR line too long (more than 4096 bytes)", p.readLine())
	require.Equal(t, "resynced", p.readLine())
	// A line of exactly the bound is taken.
	text := strings.Repeat("w", maxLine-len("ECHO "))
	require.Equal(t, text, p.ask("ECHO "+text))
}

// A peer's FIN is answered with the server's: a clean close, no reset.
func TestListenPeerDisconnects(t *testing.T) {
	srv := startServer(t)
	p := srv.dial(t)
	require.Equal(t, "x", p.ask("ECHO x"))
	require.NoError(t, p.c.CloseWrite())
	how, _ := p.end()
	require.Equal(t, "EOF", how)
	log := srv.out.waitFor(t, "conn 1: peer disconnected:")
	require.Equal(t, "conn 1: peer disconnected: Disconnect STATUS_SUCCESS, CloseSocket STATUS_SUCCESS", log)
	require.EqualValues(t, 0, srv.stats(t)["resets_sent"])
}

// Shutdown through the context (what SIGINT does in main): the pending Accept and
// Receive IRPs are cancelled, open connections are closed (reset), Deregister returns
// once every socket is closed, and nothing is left running.
func TestListenShutdown(t *testing.T) {
	srv := startServer(t)
	idle := srv.dial(t)
	require.Equal(t, "a", idle.ask("ECHO a"))
	halfLine := srv.dial(t)
	_, err := halfLine.c.Write([]byte("ECHO no newline yet"))
	require.NoError(t, err)
	waiting := srv.dial(t)
	waiting.send("CLOSE graceful") // the server waits for this peer's FIN
	require.Equal(t, "BYE", waiting.readLine())
	srv.out.waitFor(t, "conn 3: accepted")

	require.NoError(t, srv.stop())
	for _, p := range []*peer{idle, halfLine} {
		how, _ := p.end()
		require.True(t, isReset(how), "an open connection is reset at shutdown, the peer saw %s", how)
	}
	lines := srv.out.lines()
	require.Contains(t, lines, "shutting down: closing the listener and every connection")
	require.Equal(t, "deregistered: sockets open 0, IRPs pending 0", lines[len(lines)-1])
	require.Contains(t, strings.Join(lines, "\n"), "conn 3: CLOSE graceful: Disconnect(\"BYE\\n\") STATUS_SUCCESS, no FIN: Receive STATUS_CANCELLED")
	for _, p := range []*peer{idle, halfLine, waiting} {
		p.c.Close()
	}
	goleak.VerifyNone(t)
}

func TestListenBadAddress(t *testing.T) {
	require.Error(t, run(context.Background(), "not an address", newSink()))
	require.Error(t, run(context.Background(), "192.0.2.1:0", newSink()), "an address of no interface")
}

func TestLineSplitter(t *testing.T) {
	var l lineSplitter
	require.Empty(t, l.feed([]byte("EC")))
	require.Equal(t, []line{{text: "ECHO a"}, {text: "b"}}, l.feed([]byte("HO a\r\nb\n")))
	require.Equal(t, []line{{text: ""}}, l.feed([]byte("\n")))
	require.Equal(t, []line{{tooLong: true}}, l.feed(bytes.Repeat([]byte("x"), maxLine+1)))
	require.Empty(t, l.feed([]byte("still the long line")))
	require.Equal(t, []line{{text: "next"}}, l.feed([]byte("\nnext\n")))
	long := append(bytes.Repeat([]byte("y"), maxLine+1), "\nafter\n"...)
	require.Equal(t, []line{{tooLong: true}, {text: "after"}}, l.feed(long))
	exact := append(bytes.Repeat([]byte("z"), maxLine), '\n')
	require.Equal(t, []line{{text: string(exact[:maxLine])}}, l.feed(exact))
}

func TestParseListenAddr(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:0":          "127.0.0.1:0",
		"[::1]:7000":           "[::1]:7000",
		"[::ffff:127.0.0.1]:1": "127.0.0.1:1",
		":8080":                "0.0.0.0:8080",
	} {
		got, err := parseListenAddr(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got.String(), in)
	}
	_, err := parseListenAddr("127.0.0.1")
	require.Error(t, err, "no port")
}
