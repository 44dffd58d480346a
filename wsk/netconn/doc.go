// Package netconn adapts gowsk's WSK sockets to package net's interfaces: a
// [net.Listener], a [net.Conn] ([*TCPConn], with the methods of [*net.TCPConn] that
// servers use) and a [net.PacketConn] ([*UDPConn]), so that net/http, crypto/tls,
// HTTP/2 and gRPC run on gowsk unchanged. Switching a server is a one-word change:
//
//	ln, err := netconn.Listen("tcp", ":8080") // was net.Listen
//	if err != nil { ... }
//	http.Serve(ln, handler)
//
// # The model underneath
//
// The package functions ([Listen], [Dial], [ListenPacket], [Dialer.DialContext]) run
// on a default [Provider]: one wsk registration made on first use, with its provider
// NPI captured. [New] wraps a registration the user brought. [Shutdown] (or
// [Provider.Shutdown]) closes what is left and deregisters, so nothing keeps running.
//
// Each blocking call is one WSK request on an IRP its direction reuses (no allocation
// per Read or Write): Read is WskReceive, Write WskSend, Accept WskAccept, ReadFrom
// WskReceiveFrom, WriteTo WskSendTo, Dial WskSocketConnect. The calling goroutine waits
// for the IRP's completion routine; a request the provider finishes at once (data
// waiting, the kernel taking the bytes) never waits.
//
// Deadlines cancel the pending IRP (IoCancelIrp) from a timer; the provider completes a
// cancelled receive with the data it already holds and a cancelled send with the bytes
// already in the kernel (wsk.SOCancelKeepsSent), so a timeout never loses or tears data
// and the connection stays usable. Close cancels the pending IRPs (they return
// net.ErrClosed at once) and hands the socket to the linger engine for a graceful close
// in the background (see [TCPConn.Close]).
//
// # Errors
//
// Every error is a *net.OpError with Op, Net, Source and Addr, wrapping: net.ErrClosed
// after Close; os.ErrDeadlineExceeded past a deadline (Timeout() true); the request's
// NTSTATUS as an *irp.StatusError otherwise, which matches syscall.ECONNRESET (a reset),
// syscall.ECONNREFUSED and friends with errors.Is and carries its WSA code. Read
// returns a bare io.EOF at the peer's FIN.
//
// # Go names and WSK names
//
//	net.Listen / Listener.Accept / Close   WskSocket(listen) + WskBind / WskAccept / WskCloseSocket
//	net.Dial("tcp")                        WskSocketConnect
//	Conn.Read / Conn.Write                 WskReceive / WskSend
//	Conn.SetDeadline                       IoCancelIrp of the pending IRP from a timer
//	TCPConn.CloseWrite                     WskDisconnect (graceful)
//	TCPConn.SetLinger(0) + Close           WskDisconnect(WSK_FLAG_ABORTIVE) + WskCloseSocket
//	TCPConn.Close (default)                WskDisconnect, wait for the peer's FIN, WskCloseSocket
//	TCPConn.SetNoDelay / SetKeepAlive …    WskControlSocket(TCP_NODELAY, SO_KEEPALIVE, …)
//	net.ListenPacket / ReadFrom / WriteTo  WskSocket(datagram) + WskBind / WskReceiveFrom / WskSendTo
//	net.Dial("udp")                        the same + SIO_WSK_SET_REMOTE_ADDRESS
package netconn
