package main

// "wsk-portable" is the "wsk" event server (server_wsk.go) on the portable engine (Go's
// runtime poller, wsk.EnginePortable) instead of epoll: the same code, so the ratio of
// the two rows is the cost of portability.
//
// The portable engine duplicates every descriptor it watches: the server holds two
// descriptors per connection, so 10 000 connections need 20 000 (RLIMIT_NOFILE here).

import "github.com/gowsk/gowsk/wsk"

func init() {
	register("wsk-portable", func() EchoServer { return &wskEventServer{engine: wsk.EnginePortable} })
}
