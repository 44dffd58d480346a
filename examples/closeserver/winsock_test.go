//go:build linux

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// startWinsockServer is startServer for -api winsock; its output is logged when the
// test fails.
func startWinsockServer(t *testing.T) *server {
	t.Helper()
	srv := startServing(t, runWinsock)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server output:\n%s", strings.Join(srv.out.lines(), "\n"))
		}
	})
	return srv
}

// What a plain peer observes of the Winsock close paths, command by command.
func TestWinsockServerClosePaths(t *testing.T) {
	srv := startWinsockServer(t)

	p := srv.dial(t) // LINGER 1 0, CLOSESOCKET: a reset
	require.Equal(t, "x", p.ask("ECHO x"))
	require.Equal(t, "OK", p.ask("LINGER 1 0"))
	p.send("CLOSESOCKET")
	how, _ := p.end()
	require.Equal(t, "ECONNRESET", how)

	p = srv.dial(t) // default linger, FILL, CLOSESOCKET, peer reads later: all, then EOF
	p.send("FILL 4000000")
	p.send("CLOSESOCKET")
	srv.out.waitFor(t, "conn 2: closesocket ok")
	time.Sleep(100 * time.Millisecond) // the peer is not reading yet
	how, got := p.end()
	require.Equal(t, "EOF", how)
	require.Len(t, got, 4_000_000)

	p = srv.dial(t) // NONBLOCK 1, LINGER 1 5, FILL, CLOSESOCKET: WSAEWOULDBLOCK, ECHO works
	require.Equal(t, "OK", p.ask("NONBLOCK 1"))
	require.Equal(t, "OK", p.ask("LINGER 1 5"))
	p.send("FILL 8000000")
	p.send("CLOSESOCKET")
	// Read only once the close has decided: a peer that drains the 8 MB while the server
	// still works through FILL can have every byte acknowledged first (the receive buffer
	// autotunes far above 8 MB here), and then nothing is left to linger over.
	srv.out.waitFor(t, "conn 3: closesocket")
	require.NoError(t, p.c.SetReadDeadline(time.Now().Add(waitBound)))
	b := make([]byte, 8_000_000)
	_, err := p.r.Read(b[:1])
	require.NoError(t, err)
	_, err = readFull(p, b[1:])
	require.NoError(t, err)
	require.Equal(t, "ERR WSAEWOULDBLOCK 10035", p.readLine())
	require.Equal(t, "still", p.ask("ECHO still"))
	require.Equal(t, "OK", p.ask("LINGER 1 0"))
	p.send("CLOSESOCKET")
	how, _ = p.end()
	require.Equal(t, "ECONNRESET", how)

	p = srv.dial(t) // LINGER 1 1, FILL, CLOSESOCKET, the peer not reading: a reset after ~1 s
	require.Equal(t, "OK", p.ask("LINGER 1 1"))
	p.send("FILL 8000000")
	p.send("CLOSESOCKET")
	l := srv.out.waitFor(t, "conn 4: closesocket ok after")
	t.Logf("%s", l)
	how, got = p.end()
	t.Logf("LINGER 1 1, peer not reading: read %d bytes, then %s", len(got), how)
	require.Equal(t, "ECONNRESET", how)

	p = srv.dial(t) // SHUTDOWN: bad how, then send: OK then EOF
	require.Equal(t, "ERR WSAEINVAL 10022", p.ask("SHUTDOWN sideways"))
	require.Equal(t, "OK", p.ask("SHUTDOWN send"))
	how, _ = p.end()
	require.Equal(t, "EOF", how)

	p = srv.dial(t) // DUP: the connection goes on over the new SOCKET
	require.Equal(t, "OK", p.ask("DUP"))
	require.Equal(t, "after dup", p.ask("ECHO after dup"))

	p2 := srv.dial(t) // PENDOV 3: EOF (graceful), three WSA_OPERATION_ABORTED completions
	p2.send("PENDOV 3")
	how, _ = p2.end()
	require.Equal(t, "EOF", how)
	l = srv.out.waitFor(t, "conn 7: PENDOV 3:")
	require.Contains(t, l, "3 with WSA_OPERATION_ABORTED 995", l)
}

func readFull(p *peer, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := p.r.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
