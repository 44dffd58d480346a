//go:build unix || windows

package wsk

import (
	"sync"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// disconnectCall carries one WskDisconnectEvent call from connEvents.disconnectLocked
// (mu held) to the readiness pass's after-list (mu released). Pooled with its run method
// value, made once per record as indication.deliverFn is: a closure per call was 48
// bytes of every connection's end, paid by all of them at once when many close together.
type disconnectCall struct {
	s     *socket
	fn    func(any, dispatch.Flags) irp.Status
	ctx   any
	flags dispatch.Flags
	runFn func() // c.run
}

var disconnectCalls = sync.Pool{New: func() any { return new(disconnectCall) }}

// newDisconnectCall returns the call of fn(ctx, flags) for s, to be appended to an
// after-list as its runFn. The caller began EventDisconnect in the gate and took a
// callbacks reference; run gives both back.
func newDisconnectCall(s *socket, fn func(any, dispatch.Flags) irp.Status, ctx any, flags dispatch.Flags) *disconnectCall {
	c := disconnectCalls.Get().(*disconnectCall)
	if c.runFn == nil {
		c.runFn = c.run // once per record: pooled records keep it
	}
	c.s, c.fn, c.ctx, c.flags = s, fn, ctx, flags
	return c
}

// run makes the call (after mu was released) and puts c back first: nothing below
// touches it, and the callback may close the socket.
func (c *disconnectCall) run() {
	s, fn, ctx, flags := c.s, c.fn, c.ctx, c.flags
	*c = disconnectCall{runFn: c.runFn}
	disconnectCalls.Put(c)
	defer s.callbacks.Release()
	defer s.endSimpleEvent(dispatch.EventDisconnect)
	s.invokeCallback("DisconnectEvent", func() { _ = fn(ctx, flags) })
}
