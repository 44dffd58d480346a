package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk/winsock"
)

// The Winsock commands (-api winsock), besides ECHO and STATS:
//
//	LINGER <onoff> <seconds>          setsockopt(SO_LINGER); OK
//	DONTLINGER <0|1>                  setsockopt(SO_DONTLINGER); OK
//	NONBLOCK <0|1>                    ioctlsocket(FIONBIO); OK
//	FILL <n>                          one overlapped WSASend of n bytes of 'x'
//	                                  (1 <= n <= 64 MiB); no reply
//	PENDOV <n>                        n overlapped WSARecv with completion routines
//	                                  (1 <= n <= 1024), then closesocket; no reply
//	SHUTDOWN <send|receive|both>      shutdown; OK, or ERR WSAEINVAL 10022
//	DUP                               WSADuplicateSocket, WSASocket(FROM_PROTOCOL_INFO),
//	                                  closesocket of the old SOCKET; OK
//	CLOSESOCKET                       closesocket with the current linger and mode; on
//	                                  WSAEWOULDBLOCK "ERR WSAEWOULDBLOCK 10035" and the
//	                                  connection goes on
const maxFill = 64 << 20

// wsSession is one connection of the Winsock server, served by its own goroutine and
// thread context with blocking calls (in nonblocking mode it waits alertably and
// retries).
type wsSession struct {
	id  int
	w   *winsock.WSA
	th  *winsock.Thread
	s   atomic.Uint64 // the SOCKET (DUP replaces it)
	log *logger

	fills atomic.Int64 // FILL sends not completed yet
}

func (c *wsSession) current() winsock.Socket { return winsock.Socket(c.s.Load()) }

func (c *wsSession) serve(remote netip.AddrPort) {
	th, err := c.w.OpenThread()
	if err != nil {
		c.log.printf("conn %d: OpenThread %s", c.id, result(err))
		return
	}
	c.th = th
	defer func() {
		for c.fills.Load() > 0 && th.SleepEx(time.Second, true) == winsock.WaitIOCompletion {
		} // let FILL's routines run before the context closes (CloseThread would run them)
		_ = c.w.CloseThread(th)
	}()
	c.log.printf("conn %d: accepted from %s", c.id, remote)
	buf := make([]byte, 4096)
	var lines lineSplitter
	for {
		n, err := th.Recv(c.current(), buf, 0)
		if winsock.CodeOf(err) == irp.WSAEWOULDBLOCK { // NONBLOCK 1: wait, alertably
			th.SleepEx(5*time.Millisecond, true)
			continue
		}
		if err != nil {
			c.log.printf("conn %d: recv %s: closesocket %s", c.id, result(err), result(th.Closesocket(c.current())))
			return
		}
		if n == 0 {
			c.log.printf("conn %d: recv 0 (the peer's FIN): closesocket %s", c.id, result(th.Closesocket(c.current())))
			return
		}
		for _, l := range lines.feed(buf[:n]) {
			if c.command(l) {
				return
			}
		}
	}
}

// reply sends one line (retrying alertably while a nonblocking send would block).
func (c *wsSession) reply(text string) bool {
	b := []byte(text + "\n")
	for deadline := time.Now().Add(peerDeadline); ; {
		_, err := c.th.Send(c.current(), b, 0)
		if winsock.CodeOf(err) == irp.WSAEWOULDBLOCK && time.Now().Before(deadline) {
			c.th.SleepEx(5*time.Millisecond, true)
			continue
		}
		if err != nil {
			c.log.printf("conn %d: send %s: closesocket %s", c.id, result(err), result(c.th.Closesocket(c.current())))
			return true
		}
		return false
	}
}

func (c *wsSession) ok(what string, err error) bool {
	c.log.printf("conn %d: %s %s", c.id, what, result(err))
	if err != nil {
		return c.reply(fmt.Sprintf("ERR %s", result(err)))
	}
	return c.reply("OK")
}

func (c *wsSession) command(l line) bool {
	if l.tooLong {
		return c.reply(fmt.Sprintf("ERR line too long (more than %d bytes)", maxLine))
	}
	name, arg, _ := strings.Cut(l.text, " ")
	s, th := c.current(), c.th
	switch strings.ToUpper(name) {
	case "ECHO":
		return c.reply(arg)
	case "STATS":
		b, _ := json.Marshal(c.w.Stats())
		return c.reply(string(b))
	case "LINGER":
		var on, secs int
		if _, err := fmt.Sscanf(arg, "%d %d", &on, &secs); err != nil || on < 0 || on > 0xFFFF || secs < 0 || secs > 0xFFFF {
			return c.reply("ERR usage: LINGER <onoff> <seconds>")
		}
		err := th.Setsockopt(s, winsock.SOLSocket, winsock.SOLinger, winsock.Linger{OnOff: uint16(on), Linger: uint16(secs)}.Bytes())
		return c.ok(fmt.Sprintf("setsockopt(SO_LINGER {%d,%d})", on, secs), err)
	case "DONTLINGER", "NONBLOCK":
		v, err := strconv.Atoi(arg)
		if err != nil || (v != 0 && v != 1) {
			return c.reply("ERR usage: " + strings.ToUpper(name) + " <0|1>")
		}
		if strings.ToUpper(name) == "NONBLOCK" {
			u := uint32(v)
			return c.ok(fmt.Sprintf("ioctlsocket(FIONBIO %d)", v), th.Ioctlsocket(s, winsock.FIONBIO, &u))
		}
		return c.ok(fmt.Sprintf("setsockopt(SO_DONTLINGER %d)", v), th.Setsockopt(s, winsock.SOLSocket, winsock.SODontLinger, winsock.IntOpt(int32(v))))
	case "FILL":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 || n > maxFill {
			return c.reply(fmt.Sprintf("ERR usage: FILL <n>, n from 1 to %d", maxFill))
		}
		c.fill(n)
		return false
	case "PENDOV":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 || n > maxPend {
			return c.reply(fmt.Sprintf("ERR usage: PENDOV <n>, n from 1 to %d", maxPend))
		}
		c.pendov(n)
		return true
	case "SHUTDOWN":
		how := map[string]int{"send": winsock.SDSend, "receive": winsock.SDReceive, "both": winsock.SDBoth}
		h, ok := how[strings.ToLower(arg)]
		if !ok {
			h = -1 // shutdown itself refuses it: WSAEINVAL
		}
		if h == winsock.SDSend || h == winsock.SDBoth { // the reply must precede the FIN
			if c.reply("OK") {
				return true
			}
			err := th.Shutdown(s, h)
			c.log.printf("conn %d: shutdown(%s) %s", c.id, arg, result(err))
			return false
		}
		return c.ok(fmt.Sprintf("shutdown(%s)", arg), th.Shutdown(s, h))
	case "DUP":
		info, err := th.WSADuplicateSocket(s, uint32(os.Getpid()))
		if err != nil {
			return c.ok("WSADuplicateSocket", err)
		}
		f := winsock.FromProtocolInfo
		d, err := th.WSASocket(f, f, f, &info, winsock.WSAFlagOverlapped)
		if err != nil {
			return c.ok("WSASocket(FROM_PROTOCOL_INFO)", err)
		}
		c.s.Store(uint64(d))
		return c.ok("WSADuplicateSocket, WSASocket(FROM_PROTOCOL_INFO), closesocket(old)", th.Closesocket(s))
	case "CLOSESOCKET":
		start := time.Now()
		err := th.Closesocket(s)
		c.log.printf("conn %d: closesocket %s after %v", c.id, result(err), time.Since(start).Round(time.Millisecond))
		if winsock.CodeOf(err) == irp.WSAEWOULDBLOCK {
			return c.reply("ERR WSAEWOULDBLOCK 10035")
		}
		return true
	case "":
		return c.reply("ERR empty command")
	}
	return c.reply(fmt.Sprintf("ERR unknown command %q", truncate(name, 32)))
}

// fill is FILL n: one overlapped WSASend whose completion routine logs how it ended.
func (c *wsSession) fill(n int) {
	data := []byte(strings.Repeat("x", n))
	c.fills.Add(1)
	_, err := c.th.WSASend(c.current(), [][]byte{data}, 0, &winsock.Overlapped{},
		func(e winsock.WSAError, bytes uint32, _ *winsock.Overlapped, _ uint32) {
			c.fills.Add(-1)
			c.log.printf("conn %d: FILL %d: WSASend completed: %s, %d bytes", c.id, n, codeName(e), bytes)
		})
	if err != nil && winsock.CodeOf(err) != irp.WSAIOPending {
		c.fills.Add(-1)
	}
	c.log.printf("conn %d: FILL %d: WSASend %s", c.id, n, result(err))
}

// pendov is PENDOV n: n overlapped receives with completion routines, then closesocket;
// the routines run at the next alertable waits, each with WSA_OPERATION_ABORTED.
func (c *wsSession) pendov(n int) {
	var done atomic.Int64
	counts := map[winsock.WSAError]int{}
	cr := func(e winsock.WSAError, _ uint32, _ *winsock.Overlapped, _ uint32) {
		done.Add(1)
		counts[e]++ // routines run on this session's goroutine only
	}
	for range n {
		_, _ = c.th.WSARecv(c.current(), [][]byte{make([]byte, 64)}, nil, &winsock.Overlapped{}, cr)
	}
	err := c.th.Closesocket(c.current())
	for deadline := time.Now().Add(peerDeadline); done.Load() < int64(n) && time.Now().Before(deadline); {
		c.th.SleepEx(100*time.Millisecond, true)
	}
	var parts []string
	for code, k := range counts {
		parts = append(parts, fmt.Sprintf("%d with %s", k, codeName(code)))
	}
	c.log.printf("conn %d: PENDOV %d: closesocket %s; completion routines: %s", c.id, n, result(err), strings.Join(parts, ", "))
}

func codeName(c winsock.WSAError) string {
	if c == 0 {
		return "success"
	}
	return fmt.Sprintf("%s %d", winsock.CodeName(c), int(c))
}
