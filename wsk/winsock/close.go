package winsock

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// Closesocket is closesocket. It closes this SOCKET; the underlying socket (shared by
// duplicated SOCKETs) is closed with the last of them, by the linger table:
//
//	linger {0,*}      returns at once; the queued data and a FIN go out in the background,
//	                  the socket waits there for the peer's FIN (reset on late data or after
//	                  WithBackgroundCloses' timeout)
//	linger {1,0}      hard: reset at once, unsent data dropped, no TIME_WAIT
//	linger {1,n}      blocking socket: waits up to n seconds, alertable (APCs of t run), for
//	                  the data to be delivered (sent and acknowledged); graceful then (the
//	                  FIN wait goes on in the background), else reset before it returns;
//	                  returns nil either way
//	                  nonblocking socket with data not yet delivered: WSAEWOULDBLOCK, the
//	                  SOCKET stays valid and nothing is sent; call again after shutdown or
//	                  with {1,0} or {0,*} (or once the data is delivered)
//
// The protocol, in order:
//
//  1. win the SOCKET's close decision (a later closesocket of it gets WSAENOTSOCK; a
//     concurrent one waits for this one's decision, so it never answers WSAENOTSOCK
//     while the SOCKET still works);
//  2. a nonblocking {1,n} close of the last SOCKET with data not delivered gives the
//     close back and fails with WSAEWOULDBLOCK (not after shutdown(SD_SEND): the data
//     and the FIN then finish in the background);
//  3. remove the SOCKET from the table: every later use of it is WSAENOTSOCK, and so is
//     a failure of a call that overlapped the close (entry.answer);
//  4. a SOCKET that is not the last reference is done: nothing goes on the wire;
//  5. unless {1,0}, take the connection from the provider (SIOTakeConnection);
//  6. WSPCloseSocket: the provider's hard close cancels every pending operation and
//     completes each once with WSA_OPERATION_ABORTED (possibly after closesocket
//     returned, through the notification it chose), and, for a connection it still
//     has, resets it;
//  7. wait for the calls made through this SOCKET to return (their blocking waits were
//     just ended, with WSAEINTR);
//  8. hand the taken connection to the linger engine.
func (t *Thread) Closesocket(s Socket) error {
	const op = "closesocket"
	if code := t.plain(); code != 0 {
		return wsaErr(op, code)
	}
	defer t.plainDone()
	return wsaErr(op, t.w.closeSocket(t, s, false))
}

func (w *WSA) closeSocket(t *Thread, h Socket, cleanup bool) WSAError {
	e, ok := w.sockets.get(uint64(h))
	if !ok || !e.winClose() { // 1.
		return irp.WSAENOTSOCK
	}
	s := e.s
	s.mu.Lock()
	lg, nb, shut := s.linger, s.nonblocking, s.shut&shutSend != 0
	s.mu.Unlock()
	timed := lg.OnOff != 0 && lg.Linger > 0
	if timed && nb && !shut && !cleanup && s.refs.Count() == 1 && w.undelivered(s) { // 2.
		e.decideClose(closeOpen)
		return irp.WSAEWOULDBLOCK
	}
	w.sockets.remove(uint64(h)) // 3.
	e.decideClose(closeDone)
	e.rd.Begin()
	if !s.refs.Release() { // 4.
		return 0
	}
	w.closeLast(t, s, e, cleanup)
	return 0
}

// closeLast is steps 5-8 for the last reference of s; e is the SOCKET closed (nil for
// an unused protocol info dropped at cleanup).
func (w *WSA) closeLast(t *Thread, s *sock, e *entry, cleanup bool) {
	s.mu.Lock()
	lg, nb := s.linger, s.nonblocking
	s.mu.Unlock()
	timed := lg.OnOff != 0 && lg.Linger > 0
	hard := lg.OnOff != 0 && lg.Linger == 0
	var conn *dispatch.Socket
	if !hard && s.info.SocketType == SockStream { // 5.
		var obj any
		if _, code := w.top.Ioctl(s.ph, SIOTakeConnection, nil, nil, &obj); code == 0 {
			conn, _ = obj.(*dispatch.Socket)
		}
	}
	_ = w.top.CloseSocket(s.ph) // 6.
	if e != nil {
		_ = e.rd.Wait(context.Background()) // 7.
	}
	if conn == nil { // 8.
		return
	}
	switch {
	case timed && cleanup:
		w.lin.Hard(conn) // nothing waits at cleanup
	case timed && !nb:
		w.lin.Timed(conn, time.Duration(lg.Linger)*time.Second, t.lingerWait)
	default:
		w.lin.Background(conn)
	}
}

// undelivered reports whether s has send bytes not yet acknowledged (step 2).
func (w *WSA) undelivered(s *sock) bool {
	var out [8]byte
	if _, code := w.top.Ioctl(s.ph, SIOQuerySendQueue, nil, out[:], nil); code != 0 {
		return false // not connected (or reset): nothing to linger over
	}
	return binary.LittleEndian.Uint64(out[:]) > 0
}

// closeAtCleanup closes one SOCKET left open at WSACleanup.
func (w *WSA) closeAtCleanup(h Socket) { _ = w.closeSocket(nil, h, true) }
