package winsock

import "github.com/gowsk/gowsk/dispatch"

// evsel is a base socket's WSAEventSelect state (under baseSock.mu).
type evsel struct {
	ev      *Event
	mask    int32
	pending int32
	errs    [FDMaxEvents]WSAError
	closing bool // WSPCloseSocket began: signal nothing more
}

var (
	baseConnEvents   dispatch.ClientConnectionDispatch
	baseListenEvents dispatch.ClientListenDispatch
)

func (s *baseSock) readDone()              {}
func (s *baseSock) writeDone()             {}
func (s *baseSock) wouldBlockWrite()       {}
func (s *baseSock) acceptDone()            {}
func (s *baseSock) connectDone(_ WSAError) {}

func (b *base) eventSelect(h Socket, ev *Event, mask int32) WSAError              { return 0 }
func (b *base) enumNetworkEvents(h Socket, ev *Event, ne *NetworkEvents) WSAError { return 0 }
