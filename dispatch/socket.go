package dispatch

import (
	"sync/atomic"

	"github.com/gowsk/gowsk/refcount"
)

// Client is WSK_CLIENT: the binding between one registration and the provider.
type Client struct {
	Impl any // provider-private
}

// Socket is WSK_SOCKET. Dispatch is the guarded table of the socket's category:
// *BasicDispatch, *ListenDispatch, *DatagramDispatch, *ConnectionDispatch or *StreamDispatch.
// Every call through Dispatch holds the socket's rundown for the call's duration, so no
// call reaches the provider once CloseSocket has been entered (invariant 21).
//
// A Socket must not be copied after Init.
type Socket struct {
	Dispatch any
	Impl     any // provider-private state, set by NewSocket

	// rundown is held by every guarded call for its duration; CloseSocket begins the
	// rundown and runs the provider's close once it drains.
	rundown refcount.Rundown
	// inner is the provider's (possibly layered) table, basic its embedded basic part.
	inner any
	basic *BasicDispatch
	// closing is 0 until the first CloseSocket wins its CAS to 1; it never goes back.
	closing atomic.Uint32
	cat     SocketFlags
	depth   int // number of layers stacked on the provider's table
}

// NewSocket makes the socket a provider hands out. inner is the provider's (possibly
// layered) table for the category; Dispatch becomes the guard table that forwards to it.
// An inner of no known table type gives a socket on which every call is refused with
// irp.InvalidHandle (misuse is reported, never a panic).
func NewSocket(inner any, impl any) *Socket {
	s := new(Socket)
	s.Init(inner, impl)
	return s
}

// Init is NewSocket in place (a provider embedding Socket in its own record). Call it once
// per socket, before the socket is published to other goroutines: it does not reset the
// rundown or the closing flag, so re-initialising a used socket keeps it closed.
func (s *Socket) Init(inner any, impl any) {
	s.Impl = impl
	s.inner = inner
	s.basic = nil
	switch t := inner.(type) {
	case *BasicDispatch:
		if t != nil {
			s.basic, s.cat, s.Dispatch = t, BasicSocket, &basicGuard
		}
	case *ListenDispatch:
		if t != nil {
			s.basic, s.cat, s.Dispatch = &t.BasicDispatch, ListenSocket, &listenGuard
		}
	case *ConnectionDispatch:
		if t != nil {
			s.basic, s.cat, s.Dispatch = &t.BasicDispatch, ConnectionSocket, &connectionGuard
		}
	case *DatagramDispatch:
		if t != nil {
			s.basic, s.cat, s.Dispatch = &t.BasicDispatch, DatagramSocket, &datagramGuard
		}
	case *StreamDispatch:
		if t != nil {
			s.basic, s.cat, s.Dispatch = &t.BasicDispatch, StreamSocket, &streamGuard
		}
	}
	if s.basic == nil {
		// Unknown table: a basic socket whose guard refuses everything.
		s.cat, s.Dispatch, s.depth = BasicSocket, &basicGuard, 0
		return
	}
	s.depth = s.basic.layers
}

// Category is the socket's WSK_FLAG_*_SOCKET value, taken from the inner table's type.
func (s *Socket) Category() SocketFlags { return s.cat }

// Basic views Dispatch as a basic table; it works for every category because every
// table embeds BasicDispatch first.
func (s *Socket) Basic() *BasicDispatch {
	switch t := s.Dispatch.(type) {
	case *BasicDispatch:
		return t
	case *ListenDispatch:
		return &t.BasicDispatch
	case *ConnectionDispatch:
		return &t.BasicDispatch
	case *DatagramDispatch:
		return &t.BasicDispatch
	case *StreamDispatch:
		return &t.BasicDispatch
	}
	return nil
}

// Listen returns Dispatch as a listen table, nil if the socket is of another category.
func (s *Socket) Listen() *ListenDispatch { t, _ := s.Dispatch.(*ListenDispatch); return t }

// Datagram returns Dispatch as a datagram table, nil if of another category.
func (s *Socket) Datagram() *DatagramDispatch { t, _ := s.Dispatch.(*DatagramDispatch); return t }

// Connection returns Dispatch as a connection table, nil if of another category.
func (s *Socket) Connection() *ConnectionDispatch {
	t, _ := s.Dispatch.(*ConnectionDispatch)
	return t
}

// Stream returns Dispatch as a stream table, nil if of another category.
func (s *Socket) Stream() *StreamDispatch { t, _ := s.Dispatch.(*StreamDispatch); return t }

// StackSize is the number of IRP stack locations a call on s needs: one for the guard's
// entry into the provider plus one per Layer stacked on the inner table.
func (s *Socket) StackSize() int { return 1 + s.depth }

// Closing reports whether CloseSocket has been entered. Safe for concurrent use.
func (s *Socket) Closing() bool { return s.closing.Load() != 0 }
