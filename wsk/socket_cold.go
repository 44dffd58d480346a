//go:build unix || windows

package wsk

import (
	"net/netip"

	"github.com/gowsk/gowsk/dispatch"
)

// socketCold holds what a socket needs only in the roles and moments an established
// connection does not go through: a connect in progress, the listening side, the peer's
// address after our FIN, disable requests waiting for a running callback, the static
// events, SOCancelKeepsSent. It is made on first use (coldLocked) and lives as long as
// the socket record: an idle connection that never does any of these has none, and saves
// its bytes (package doc, # Memory per connection).
//
// Guarded by socket.mu, like the fields it came from. The pointer socket.cold is written
// once, nil to the record, under mu (or before the socket is published), and never
// cleared; so it may be read without mu wherever the record was made before the socket
// was published: listen and stream sockets (their listener) and sockets with static
// events (static).
//
//	field            used by
//	connectOp        the pending WskConnect/WskConnectEx/WskSocketConnect (conn.go)
//	lst              listen and stream sockets: the listening side (listen.go); made
//	                 with the socket, set once, read without mu
//	peer             the remote address, recorded before our FIN (conn.go peerNameLocked):
//	                 a value, so a graceful disconnect allocates only this record
//	waiters          WSK_EVENT_DISABLE requests waiting for their callback, a list
//	                 (events.go)
//	static           the WSK_SET_STATIC_EVENT_CALLBACKS events (events_static.go); set
//	                 before the socket is published, never changed
//	cancelKeepsSent  SOCancelKeepsSent: a cancelled partial send keeps the connection
type socketCold struct {
	connectOp       *op
	lst             *listener
	peer            netip.AddrPort
	waiters         *disableWaiter
	static          dispatch.EventMask
	cancelKeepsSent bool
}

// coldLocked returns the socket's cold record, making it the first time. The caller
// holds mu, or owns a socket not yet published.
func (s *socket) coldLocked() *socketCold {
	if s.cold == nil {
		s.cold = new(socketCold)
	}
	return s.cold
}

// connectOpLocked is the pending connect op, or nil.
func (s *socket) connectOpLocked() *op {
	if s.cold == nil {
		return nil
	}
	return s.cold.connectOp
}

// listenSide is the listening side of a listen or stream socket, nil for the other
// categories. It is set before the socket is published and never changed, and the other
// categories never read s.cold here (theirs may be made under mu meanwhile), so any
// goroutine may call this without mu.
func (s *socket) listenSide() *listener {
	if c := s.category(); c != dispatch.ListenSocket && c != dispatch.StreamSocket || s.cold == nil {
		return nil
	}
	return s.cold.lst
}

// staticMaskLocked is the socket's static event mask (0 for most sockets). Called with mu
// held.
func (s *socket) staticMaskLocked() dispatch.EventMask {
	if s.cold == nil {
		return 0
	}
	return s.cold.static
}

// cancelKeepsSentLocked reports SOCancelKeepsSent.
func (s *socket) cancelKeepsSentLocked() bool {
	return s.cold != nil && s.cold.cancelKeepsSent
}
