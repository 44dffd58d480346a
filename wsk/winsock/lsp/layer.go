package lsp

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/winsock"
)

// Member names a WSP function, for counts and faults.
type Member int

// Members the layer counts, in WSPPROC_TABLE order.
const (
	Accept Member = iota
	Bind
	CloseSocket
	Connect
	GetSockOpt
	Ioctl
	Listen
	Recv
	RecvFrom
	Send
	SendTo
	SetSockOpt
	Shutdown
	Socket
	numMembers
)

// Stats is a snapshot of the layer's counters.
type Stats struct {
	Calls          [numMembers]uint64
	Faults         uint64 // calls failed by InjectFault
	Outstanding    int64  // overlapped operations passed down and not completed yet
	Completed      uint64 // overlapped operations completed back to the application
	DeferredCloses uint64 // WPUCloseSocketHandle calls deferred past WSPCloseSocket
	HandlesClosed  uint64
	WorkerRuns     uint64 // completion routines the worker ran
}

// Layer is one LSP. Make it with New, install it with winsock.WithLayer(l.Provider()).
// One Layer serves one session at a time. Its methods are safe for concurrent use.
type Layer struct {
	up    *winsock.Upcalls
	id    uint32
	lower *winsock.WSPProcTable
	wk    *worker

	calls                                           [numMembers]atomic.Uint64
	faults, completed, deferred, closed, workerRuns atomic.Uint64
	outstanding                                     atomic.Int64

	fmu    sync.Mutex
	inject map[Member]fault
}

type fault struct {
	code winsock.WSAError
	n    int
}

// New returns a layer with no fault armed.
func New() *Layer { return &Layer{inject: make(map[Member]fault)} }

// InjectFault makes the next n calls of m fail with code without reaching the layer
// below.
func (l *Layer) InjectFault(m Member, code winsock.WSAError, n int) {
	l.fmu.Lock()
	l.inject[m] = fault{code, n}
	l.fmu.Unlock()
}

// Upcalls returns the WPU table the session gave the layer (nil before WSAStartup),
// for tests that exercise the upcalls directly.
func (l *Layer) Upcalls() *winsock.Upcalls { return l.up }

// CatalogID returns the catalog entry id the session gave the layer.
func (l *Layer) CatalogID() uint32 { return l.id }

// Stats returns a snapshot.
func (l *Layer) Stats() Stats {
	var s Stats
	for k := range s.Calls {
		s.Calls[k] = l.calls[k].Load()
	}
	s.Faults, s.Outstanding, s.Completed = l.faults.Load(), l.outstanding.Load(), l.completed.Load()
	s.DeferredCloses, s.HandlesClosed, s.WorkerRuns = l.deferred.Load(), l.closed.Load(), l.workerRuns.Load()
	return s
}

// enter counts a call and reports an injected fault (0: none).
func (l *Layer) enter(m Member) winsock.WSAError {
	l.calls[m].Add(1)
	l.fmu.Lock()
	defer l.fmu.Unlock()
	f, ok := l.inject[m]
	if !ok || f.n <= 0 {
		return 0
	}
	f.n--
	l.inject[m] = f
	l.faults.Add(1)
	return f.code
}

// lsock is the layer's context of one of its handles.
type lsock struct {
	h     winsock.Socket // the layer's handle (WPUCreateSocketHandle)
	lower winsock.Socket // the layer below's handle

	mu          sync.Mutex
	outstanding int  // overlapped operations passed down, not completed yet
	closing     bool // WSPCloseSocket ran: refuse everything; close the handle when drained
}

// Provider is the layer's WSPStartup, for winsock.WithLayer.
func (l *Layer) Provider() winsock.Provider {
	return winsock.Provider{Name: "gowsk counting LSP", Startup: l.startup}
}

func (l *Layer) startup(up *winsock.Upcalls, id uint32, lower *winsock.WSPProcTable) (*winsock.WSPProcTable, winsock.WSAError) {
	if lower == nil {
		return nil, irp.WSAEINVAL // a layered provider needs a layer below
	}
	l.up, l.id, l.lower = up, id, lower
	wk, code := startWorker(l)
	if code != 0 {
		return nil, code
	}
	l.wk = wk
	return &winsock.WSPProcTable{
		Accept:      l.accept,
		Bind:        l.bind,
		Cleanup:     l.cleanup,
		CloseSocket: l.closeSocket,
		Connect:     l.connect,
		GetPeerName: l.getPeerName,
		GetSockName: l.getSockName,
		GetSockOpt:  l.getSockOpt,
		Ioctl:       l.ioctl,
		Listen:      l.listen,
		Recv:        l.recv,
		RecvFrom:    l.recvFrom,
		Send:        l.send,
		SendTo:      l.sendTo,
		SetSockOpt:  l.setSockOpt,
		Shutdown:    l.shutdown,
		Socket:      l.socket,
		EventSelect: func(s winsock.Socket, ev *winsock.Event, mask int32) winsock.WSAError {
			ls, code := l.ctx(s)
			if code != 0 {
				return code
			}
			return l.lower.EventSelect(ls.lower, ev, mask)
		},
		EnumNetworkEvents: func(s winsock.Socket, ev *winsock.Event, ne *winsock.NetworkEvents) winsock.WSAError {
			ls, code := l.ctx(s)
			if code != 0 {
				return code
			}
			return l.lower.EnumNetworkEvents(ls.lower, ev, ne)
		},
	}, 0
}

// ctx returns the context of one of the layer's live handles.
func (l *Layer) ctx(s winsock.Socket) (*lsock, winsock.WSAError) {
	c, code := l.up.QuerySocketHandleContext(s)
	if code != 0 {
		return nil, code
	}
	ls, ok := c.(*lsock)
	if !ok {
		return nil, irp.WSAENOTSOCK
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.closing {
		return nil, irp.WSAENOTSOCK
	}
	return ls, 0
}

// wrap gives a lower handle one of the layer's handles.
func (l *Layer) wrap(lower winsock.Socket) (winsock.Socket, winsock.WSAError) {
	ls := &lsock{lower: lower}
	h, code := l.up.CreateSocketHandle(l.id, ls)
	if code != 0 {
		_ = l.lower.CloseSocket(lower)
		return winsock.InvalidSocket, code
	}
	ls.h = h
	return h, 0
}

func (l *Layer) socket(af, sotype, protocol int, info *winsock.ProtocolInfo, flags uint32) (winsock.Socket, winsock.WSAError) {
	if code := l.enter(Socket); code != 0 {
		return winsock.InvalidSocket, code
	}
	lower, code := l.lower.Socket(af, sotype, protocol, info, flags)
	if code != 0 {
		return winsock.InvalidSocket, code
	}
	return l.wrap(lower)
}

func (l *Layer) accept(s winsock.Socket, remote *netip.AddrPort) (winsock.Socket, winsock.WSAError) {
	if code := l.enter(Accept); code != 0 {
		return winsock.InvalidSocket, code
	}
	ls, code := l.ctx(s)
	if code != 0 {
		return winsock.InvalidSocket, code
	}
	lower, code := l.lower.Accept(ls.lower, remote)
	if code != 0 {
		return winsock.InvalidSocket, code
	}
	return l.wrap(lower)
}

// pass is every synchronous member: count, fault, translate the handle, call down.
func (l *Layer) pass(m Member, s winsock.Socket, fn func(lower winsock.Socket) winsock.WSAError) winsock.WSAError {
	if code := l.enter(m); code != 0 {
		return code
	}
	ls, code := l.ctx(s)
	if code != 0 {
		return code
	}
	return fn(ls.lower)
}

func (l *Layer) bind(s winsock.Socket, a netip.AddrPort) winsock.WSAError {
	return l.pass(Bind, s, func(low winsock.Socket) winsock.WSAError { return l.lower.Bind(low, a) })
}

func (l *Layer) connect(s winsock.Socket, a netip.AddrPort) winsock.WSAError {
	return l.pass(Connect, s, func(low winsock.Socket) winsock.WSAError { return l.lower.Connect(low, a) })
}

func (l *Layer) listen(s winsock.Socket, backlog int) winsock.WSAError {
	return l.pass(Listen, s, func(low winsock.Socket) winsock.WSAError { return l.lower.Listen(low, backlog) })
}

func (l *Layer) shutdown(s winsock.Socket, how int) winsock.WSAError {
	return l.pass(Shutdown, s, func(low winsock.Socket) winsock.WSAError { return l.lower.Shutdown(low, how) })
}

func (l *Layer) setSockOpt(s winsock.Socket, level, name int32, val []byte) winsock.WSAError {
	return l.pass(SetSockOpt, s, func(low winsock.Socket) winsock.WSAError {
		return l.lower.SetSockOpt(low, level, name, val)
	})
}

func (l *Layer) getSockOpt(s winsock.Socket, level, name int32, val []byte) (n int, code winsock.WSAError) {
	code = l.pass(GetSockOpt, s, func(low winsock.Socket) winsock.WSAError {
		n, code = l.lower.GetSockOpt(low, level, name, val)
		return code
	})
	return n, code
}

// ioctl passes every IOCTL down, the switch's SIOTakeConnection and SIOQuerySendQueue
// included: the connection lives in the base provider.
func (l *Layer) ioctl(s winsock.Socket, code uint32, in, out []byte, obj *any) (n int, c winsock.WSAError) {
	c = l.pass(Ioctl, s, func(low winsock.Socket) winsock.WSAError {
		n, c = l.lower.Ioctl(low, code, in, out, obj)
		return c
	})
	return n, c
}

func (l *Layer) getSockName(s winsock.Socket) (a netip.AddrPort, code winsock.WSAError) {
	ls, code := l.ctx(s)
	if code != 0 {
		return a, code
	}
	return l.lower.GetSockName(ls.lower)
}

func (l *Layer) getPeerName(s winsock.Socket) (a netip.AddrPort, code winsock.WSAError) {
	ls, code := l.ctx(s)
	if code != 0 {
		return a, code
	}
	return l.lower.GetPeerName(ls.lower)
}

// closeSocket is the LSP's WSPCloseSocket: refuse the handle from now on, close the
// lower socket at once (its hard close completes every operation below, whose routines
// then complete ours), and close the handle once nothing is outstanding on it.
func (l *Layer) closeSocket(s winsock.Socket) winsock.WSAError {
	l.calls[CloseSocket].Add(1)
	ls, code := l.ctx(s)
	if code != 0 {
		return code
	}
	ls.mu.Lock()
	ls.closing = true
	ls.mu.Unlock()
	_ = l.lower.CloseSocket(ls.lower)
	ls.mu.Lock()
	now := ls.outstanding == 0
	ls.mu.Unlock()
	if now {
		l.closeHandle(ls)
	} else {
		l.deferred.Add(1)
	}
	return 0
}

func (l *Layer) closeHandle(ls *lsock) {
	if code := l.up.CloseSocketHandle(ls.h); code == 0 {
		l.closed.Add(1)
	}
}

// cleanup is the LSP's WSPCleanup: the switch closed every socket before, so the worker
// only finishes what is outstanding, closes its thread context and ends.
func (l *Layer) cleanup() winsock.WSAError {
	l.wk.stop()
	return 0
}
