package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
)

// maxPend bounds PEND's count: the provider's default MaxPendingPerSocket, so every
// posted receive is admitted (a larger count would be refused by Limits anyway).
const maxPend = 1024

// session is one accepted connection of the -listen server. It is driven by its own
// goroutine with synchronous calls (wsk.Call): one Receive at a time for the commands,
// one Send per reply. PEND is the exception and posts asynchronous receives.
type session struct {
	id  int
	s   *dispatch.Socket
	p   *provider
	log *logger
}

// serve reads command lines until a command ends the connection, the peer goes away, or
// ctx ends (shutdown), and always leaves the socket closed.
func (c *session) serve(ctx context.Context, remote netip.AddrPort) {
	c.log.printf("conn %d: accepted from %s", c.id, remote)
	conn := c.s.Connection()
	buf := make([]byte, 4096)
	var lines lineSplitter
	for {
		in := dispatch.MakeBuf(buf)
		res := c.call(ctx, func(i *irp.IRP) irp.Status { return conn.Receive(c.s, &in, 0, i) })
		switch {
		case res.Status == irp.Cancelled && ctx.Err() != nil:
			c.log.printf("conn %d: shutdown: CloseSocket %v (still connected: reset)", c.id, closeSocket(c.s))
			return
		case res.Status != irp.Success:
			c.log.printf("conn %d: Receive %v: CloseSocket %v", c.id, res.Status, closeSocket(c.s))
			return
		case res.Information == 0:
			// The peer's FIN: answer with ours, then both directions are shut and the
			// close sends no RST.
			d := c.call(ctx, func(i *irp.IRP) irp.Status { return conn.Disconnect(c.s, nil, 0, i) })
			c.log.printf("conn %d: peer disconnected: Disconnect %v, CloseSocket %v", c.id, d.Status, closeSocket(c.s))
			return
		}
		for _, l := range lines.feed(buf[:res.Information]) {
			if c.command(ctx, l) {
				return
			}
		}
	}
}

// call is a synchronous call on the session's socket; ctx ending cancels its IRP.
func (c *session) call(ctx context.Context, fn func(*irp.IRP) irp.Status) irp.IoStatusBlock {
	return wsk.Call(ctx, c.s.StackSize(), fn)
}

// reply sends one line. A failed send closes the socket and reports true (done).
func (c *session) reply(ctx context.Context, text string) bool {
	out := dispatch.MakeBuf([]byte(text + "\n"))
	res := c.call(ctx, func(i *irp.IRP) irp.Status { return c.s.Connection().Send(c.s, &out, 0, i) })
	if res.Status != irp.Success {
		c.log.printf("conn %d: Send %v: CloseSocket %v", c.id, res.Status, closeSocket(c.s))
		return true
	}
	return false
}

// command runs one line and reports whether the connection is finished (its socket
// closed). Malformed input gets "ERR <reason>" and the connection goes on.
func (c *session) command(ctx context.Context, l line) bool {
	if l.tooLong {
		return c.reply(ctx, fmt.Sprintf("ERR line too long (more than %d bytes)", maxLine))
	}
	name, arg, hasArg := strings.Cut(l.text, " ")
	switch strings.ToUpper(name) {
	case "ECHO":
		if !hasArg {
			return c.reply(ctx, "ERR usage: ECHO <text>")
		}
		return c.reply(ctx, arg)
	case "CLOSE":
		switch strings.ToLower(arg) {
		case "graceful":
			c.closeGraceful(ctx)
		case "abortive":
			c.closeAbortive()
		case "socket":
			c.log.printf("conn %d: CLOSE socket: CloseSocket %v (still connected: reset)", c.id, closeSocket(c.s))
		default:
			return c.reply(ctx, "ERR usage: CLOSE graceful|abortive|socket")
		}
		return true
	case "PEND":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 || n > maxPend {
			return c.reply(ctx, fmt.Sprintf("ERR usage: PEND <n>, n from 1 to %d", maxPend))
		}
		c.pend(n)
		return true
	case "STATS":
		if hasArg {
			return c.reply(ctx, "ERR usage: STATS")
		}
		b, err := json.Marshal(c.p.reg.Stats())
		if err != nil {
			return c.reply(ctx, "ERR "+err.Error())
		}
		return c.reply(ctx, string(b))
	case "":
		return c.reply(ctx, "ERR empty command")
	}
	return c.reply(ctx, fmt.Sprintf("ERR unknown command %q (ECHO, CLOSE, PEND, STATS)", truncate(name, 32)))
}

// closeGraceful is CLOSE graceful: a graceful Disconnect whose final buffer is "BYE\n",
// then receives until the peer's FIN (anything the peer still sends is read and
// dropped, so no unread data turns the close into a reset), then CloseSocket. Shut in
// both directions, the socket closes with no RST. Shutdown (ctx) cuts the wait short.
func (c *session) closeGraceful(ctx context.Context) {
	conn := c.s.Connection()
	bye := dispatch.MakeBuf([]byte("BYE\n"))
	d := c.call(ctx, func(i *irp.IRP) irp.Status { return conn.Disconnect(c.s, &bye, 0, i) })
	dropped := 0
	fin := "the peer's FIN"
	buf := make([]byte, 4096)
	for d.Status == irp.Success {
		in := dispatch.MakeBuf(buf)
		res := c.call(ctx, func(i *irp.IRP) irp.Status { return conn.Receive(c.s, &in, 0, i) })
		if res.Status != irp.Success {
			fin = "no FIN: Receive " + res.Status.String()
			break
		}
		if res.Information == 0 {
			break
		}
		dropped += int(res.Information)
	}
	c.log.printf("conn %d: CLOSE graceful: Disconnect(%q) %v, %s after %d more bytes, CloseSocket %v",
		c.id, "BYE\n", d.Status, fin, dropped, closeSocket(c.s))
}

// closeAbortive is CLOSE abortive: Disconnect with WSK_FLAG_ABORTIVE resets at once,
// then CloseSocket (which does not reset again).
func (c *session) closeAbortive() {
	res := wsk.Call(context.Background(), c.s.StackSize(), func(i *irp.IRP) irp.Status {
		return c.s.Connection().Disconnect(c.s, nil, dispatch.FlagAbortive, i)
	})
	c.log.printf("conn %d: CLOSE abortive: Disconnect(WSK_FLAG_ABORTIVE) %v, CloseSocket %v", c.id, res.Status, closeSocket(c.s))
}

// pend is PEND n: it posts n asynchronous receives (the peer is waiting for an answer,
// so they stay pending), then closes the socket, and logs the order the IRPs completed
// in: the close protocol cancels every pending IRP and completes the close IRP last.
// The peer gets no line: the report is about the close itself, which ends the
// connection (the peer sees the reset, ECONNRESET).
func (c *session) pend(n int) {
	conn := c.s.Connection()
	var order atomic.Int64
	recvs := make([]*asyncCall, n)
	for k := range recvs {
		in := dispatch.MakeBuf(make([]byte, 64))
		recvs[k] = start(&order, c.s, func(i *irp.IRP) irp.Status { return conn.Receive(c.s, &in, 0, i) })
	}
	cl := start(&order, c.s, func(i *irp.IRP) irp.Status { return c.s.Basic().CloseSocket(c.s, i) })
	closed := cl.wait()
	cancelledFirst := 0
	others := map[string]int{}
	for _, r := range recvs {
		st := r.wait()
		if st.Status == irp.Cancelled && r.seq < cl.seq {
			cancelledFirst++
		} else {
			others[fmt.Sprintf("%v (%s the close)", st.Status, map[bool]string{true: "before", false: "after"}[r.seq < cl.seq])]++
		}
	}
	msg := fmt.Sprintf("conn %d: PEND %d: %d of %d receive IRPs completed with %v before the close IRP completed with %v",
		c.id, n, cancelledFirst, n, irp.Cancelled, closed.Status)
	if len(others) > 0 {
		var parts []string
		for k, v := range others {
			parts = append(parts, fmt.Sprintf("%d %s", v, k))
		}
		sort.Strings(parts)
		msg += "; the others: " + strings.Join(parts, ", ")
	}
	c.log.printf("%s", msg)
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
