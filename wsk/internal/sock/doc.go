// Package sock is every operating-system call the WSK provider (package wsk) makes on a
// socket, behind one small OS-neutral interface, so that the provider's code is one code
// on Unix and on Windows.
//
// # The interface
//
// A descriptor is an int: a file descriptor on Unix, a SOCKET handle on Windows (a
// handle value fits an int; INVALID_SOCKET is -1). Addresses are netip.AddrPort, with
// v4-mapped IPv6 addresses unmapped on the way out, so a dual-stack socket reports
// 127.0.0.1 rather than ::ffff:127.0.0.1. Buffers are [][]byte, at most MaxSegs of them
// per call. Every socket is nonblocking from its creation (Socket, Accept), and every
// call returns at once: an operation that would wait fails with an error that IsAgain
// reports, after which the caller waits for readiness.
//
// Errors are the OS's own values (syscall.Errno: EAGAIN on Unix, WSAEWOULDBLOCK on
// Windows). The provider never compares them itself: the classifiers (IsAgain,
// IsInProgress, IsNotConn, TransportDied, AcceptRetry, IsNoResources) say what an error
// means, and Status maps one to the irp.Status the provider reports, the same status on
// every OS for the same meaning (a reset is STATUS_CONNECTION_RESET whether the OS said
// ECONNRESET or WSAECONNRESET).
//
// # Concurrency and cost
//
// Every function is safe for concurrent use as far as the OS call is; the provider
// serializes the calls on one descriptor with its socket lock. The per-request calls
// (Read, Readv, Writev, Peek, Accept, RecvFrom, SendTo) allocate nothing: on Linux they
// are raw system calls with their addresses and vectors on the stack (no scheduler
// hand-off for a call that never blocks, see wsk/internal/engine's package doc); on
// Windows the WSABUF vectors and the address records are on the stack too, and the
// common errors are preallocated values. A signal that interrupts a Unix call before it
// did anything (EINTR) is retried inside.
//
// # Names
//
//	Unix                               Windows                              here
//	socket + SOCK_NONBLOCK|CLOEXEC     WSASocket + FIONBIO                  Socket
//	accept4(NONBLOCK|CLOEXEC)          accept (inherits nonblocking)        Accept
//	connect, SO_ERROR                  connect, SO_ERROR                    Connect, ConnectResult
//	read, recvmsg                      recv, WSARecv                        Read, Readv
//	send/sendmsg + MSG_NOSIGNAL        send, WSASend (no SIGPIPE)           Writev
//	recv(MSG_PEEK|MSG_DONTWAIT)        recv(MSG_PEEK)                       Peek
//	recvfrom, sendto/sendmsg           WSARecvFrom, WSASendTo               RecvFrom, SendTo
//	shutdown(SHUT_WR)                  shutdown(SD_SEND)                    Shutdown
//	SO_LINGER {1, 0} + close           SO_LINGER {1, 0} + closesocket       SetLingerZero, Close
//	connect(AF_UNSPEC)                 connect(zero address) on UDP         Reset, Dissociate
//	SIOCINQ / FIONREAD                 FIONREAD                             ReceiveQueue
//	SIOCOUTQ, SO_NWRITE, FIONWRITE     SIO_TCP_INFO (BytesInFlight, FIN)    SendQueue
//	TCP_INFO, TCP_CONNECTION_INFO      SIO_TCP_INFO (State)                 TCPFinished
//	TCP_KEEPIDLE, TCP_KEEPINTVL        TCP_KEEPIDLE, TCP_KEEPINTVL (1709+)  GetInt, SetInt
//	ECONNREFUSED after an ICMP error   SIO_UDP_CONNRESET off                RecvFrom skips it
package sock

// MaxSegs bounds the buffers of one Readv, Writev or SendTo.
const MaxSegs = 64
