package main

import (
	"fmt"
	"sort"
	"sync"
)

// EchoServer is one implementation under test. Serve listens on addr,
// calls ready with the bound address once connections can be accepted,
// echoes every byte it reads back to its sender, and returns after stop is
// closed and the server has shut down. It runs alone in its own process
// (the `serve` mode), pinned to one CPU with GOMAXPROCS=1.
type EchoServer interface {
	Serve(addr string, ready func(bound string), stop <-chan struct{}) error
}

var (
	registryMu sync.Mutex
	registry   = map[string]func() EchoServer{}
)

// register adds a server variant. Each server_*.go file calls it from
// init, so adding the gowsk (`wsk`) server later is one new file.
func register(name string, mk func() EchoServer) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("bench: server registered twice: " + name)
	}
	registry[name] = mk
}

func lookupServer(name string) (EchoServer, error) {
	registryMu.Lock()
	defer registryMu.Unlock()
	mk, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown server %q (known: %v)", name, serverNamesLocked())
	}
	return mk(), nil
}

// serverNames lists registered servers, stdlib first then alphabetical.
func serverNames() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	return serverNamesLocked()
}

func serverNamesLocked() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if names[i] == "stdlib" || names[j] == "stdlib" {
			return names[i] == "stdlib"
		}
		return names[i] < names[j]
	})
	return names
}
