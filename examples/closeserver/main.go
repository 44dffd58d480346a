// Command closeserver is gowsk's guided tour of the close protocol, on real sockets.
//
// With no flags it runs the tour: a gowsk server (package wsk: a listen socket, Accept,
// Receive, Send, Disconnect and CloseSocket IRPs) on 127.0.0.1 and a plain net.Conn
// client, the peer, whose read() shows what reached the wire. Five steps teach the ways a
// WSK connection ends:
//
//  1. Graceful disconnect, then close. Disconnect sends its final buffer and a FIN; the
//     peer reads the bytes and EOF and answers with its FIN; the server's Receive
//     completes with 0 bytes; now shut in both directions, CloseSocket sends no RST.
//  2. Abortive disconnect (WSK_FLAG_ABORTIVE): the RST goes out at once and the peer
//     reads ECONNRESET. Linux reports a reset once (the peer's next read is EOF), but
//     the socket keeps the error: every later call gets STATUS_CONNECTION_ABORTED until
//     CloseSocket, which does not reset a second time.
//  3. Close while still connected: CloseSocket resets the connection itself
//     (SO_LINGER{1,0}), because a connection not disconnected both ways cannot close
//     cleanly. Bytes the peer already received stay readable; then it reads ECONNRESET.
//  4. Close with pending receive IRPs: close cancels each one (STATUS_CANCELLED, 0 bytes)
//     in queue order and completes its own IRP last, the single "everything is
//     finished" signal.
//  5. Calls racing close: every call is either refused at once (STATUS_INVALID_HANDLE)
//     or admitted and then cancelled by the close; every IRP completes exactly once and
//     the close IRP after every call it admitted. Which calls win varies, so the tour
//     prints only the facts that hold for every outcome.
//
// The transcript has no ports and no timings, so a test pins it in full (and the README
// shows it).
//
// With -listen ADDR it is a small line server on the same API, for trying the close
// kinds by hand (nc 127.0.0.1 PORT). The first line on stdout is exactly
// "listening on HOST:PORT" (the bound address, so -listen 127.0.0.1:0 works); it serves
// until SIGINT or SIGTERM, then closes every socket and deregisters (Deregister waits for
// every socket). Commands, one per line (command names in any case):
//
//	ECHO <text>      replies <text>
//	CLOSE graceful   graceful disconnect with the final buffer "BYE\n", then waits for
//	                 the peer's FIN (reading and dropping anything before it) and closes:
//	                 no RST
//	CLOSE abortive   abortive disconnect, then close: the peer reads ECONNRESET
//	CLOSE socket     CloseSocket on the open connection: the peer reads ECONNRESET
//	PEND <n>         posts n receive IRPs (1 <= n <= 1024), then closes; the report goes
//	                 to the server's stdout, e.g. "conn 4: PEND 3: 3 of 3 receive IRPs
//	                 completed with STATUS_CANCELLED before the close IRP completed with
//	                 STATUS_SUCCESS"; the peer gets no line, only the reset
//	STATS            one line of JSON: the registration's wsk.Stats
//
// Anything else gets "ERR <reason>" and the connection stays usable. A line is at most
// 4096 bytes (newline excluded; a trailing "\r" is ignored): a longer one gets
// "ERR line too long ..." once and is skipped up to its newline, and the next line is
// read normally. A peer that disconnects (FIN) gets the server's FIN back and a clean
// close; at shutdown, connections still open are closed and so reset. Commands are
// logged on stdout with the connection's number.
//
// With -trace FILE either mode also writes a runtime/trace of its whole run to FILE, with
// gowsk's IRP tracing on (package wsktrace): open it with `go tool trace FILE`.
//
// With -api winsock every connection is a SOCKET of package wsk/winsock instead, with
// the Winsock commands (LINGER, DONTLINGER, NONBLOCK, FILL, PENDOV, SHUTDOWN, DUP,
// CLOSESOCKET) that winsock_session.go lists; without -listen, -api winsock runs the
// second tour, the Winsock close paths (winsock_tour.go).
//
//	go run ./examples/closeserver
//	go run ./examples/closeserver -trace tour.trace
//	go run ./examples/closeserver -listen 127.0.0.1:7000
//	go run ./examples/closeserver -listen 127.0.0.1:7000 -api winsock
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	listen := flag.String("listen", "", "serve the line protocol on `ADDR` (host:port) until SIGINT or SIGTERM, instead of the tour")
	traceTo := flag.String("trace", "", "write a runtime/trace with gowsk's IRP tracing to `FILE` (go tool trace FILE)")
	api := flag.String("api", "wsk", "the `API` the tour or the -listen server uses: wsk or winsock")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "closeserver: unexpected arguments:", flag.Args())
		flag.Usage()
		os.Exit(2)
	}
	tours := map[string]func(io.Writer) error{"wsk": tour, "winsock": tourWinsock} // winsock_tour.go
	serve := map[string]func(context.Context, string, io.Writer) error{"wsk": run, "winsock": runWinsock}[*api]
	if serve == nil {
		fmt.Fprintln(os.Stderr, "closeserver: -api must be wsk or winsock")
		os.Exit(2)
	}
	stopTrace, err := startTrace(*traceTo) // trace.go; nothing without -trace
	if err != nil {
		fmt.Fprintln(os.Stderr, "closeserver:", err)
		os.Exit(1)
	}
	if *listen == "" {
		err = tours[*api](os.Stdout)
	} else {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err = serve(ctx, *listen, os.Stdout)
		stop()
	}
	if e := stopTrace(); err == nil {
		err = e
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "closeserver:", err)
		os.Exit(1)
	}
}
