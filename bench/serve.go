package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// serveMain is the `serve` mode: one echo server in this process until
// SIGTERM or SIGINT. The first stdout line is "listening on HOST:PORT";
// the driver waits for it.
func serveMain(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	impl := fs.String("impl", "stdlib", "server implementation")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	raiseNofile()
	srv, err := lookupServer(*impl)
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 2
	}
	stop := make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; close(stop) }()
	err = srv.Serve(*addr, func(bound string) {
		fmt.Printf("listening on %s\n", bound)
	}, stop)
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	return 0
}
