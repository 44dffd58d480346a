//go:build linux

package winsock_test

import (
	"net/netip"

	"github.com/gowsk/gowsk/wsk/winsock"
)

func loopback0() netip.AddrPort { return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 0) }

// threadFor opens a second thread context of th's session (for another goroutine).
func threadFor(th *winsock.Thread) (*winsock.Thread, error) { return th.Session().OpenThread() }

func closeThread(th, other *winsock.Thread) { _ = th.Session().CloseThread(other) }
