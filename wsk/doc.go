// Package wsk is the Winsock Kernel provider of gowsk: registration, the client-level
// provider table, and sockets on real OS sockets driven by an engine (wsk/internal/engine:
// epoll on Linux, Go's runtime poller on the other Unix systems, WSAPoll on Windows; see
// "Engines and platforms"). An application uses it exactly as a WSK client driver uses Windows:
// [Register], [Registration.CaptureProviderNPI], create sockets through the provider table
// ([ProviderNPI].Dispatch), call the socket's dispatch table with IRPs, close every
// socket, [Registration.ReleaseProviderNPI], [Registration.Deregister].
//
// Section numbers (SPEC.md §3.1) cite the repository's specification; "invariant N" is the
// N-th invariant of its numbered list, SPEC.md §10.
//
// # The model
//
// Every asynchronous call takes an *[irp.IRP] and returns an [irp.Status]: [irp.Pending]
// means the IRP completes later; any other value means the IRP has already been completed
// with that status (invariants 9-11). Completion routines run on whatever goroutine
// finishes the request: the caller's (the fast path: a send the kernel takes at once, a
// receive with data waiting), an engine loop's (readiness), or a canceller's. They run with
// no provider lock held and must not block: a loop serves many sockets.
//
// A socket's Dispatch is dispatch's guard table (see package [dispatch]): every call holds
// the socket's rundown, and CloseSocket reaches the provider only once no call is in
// flight. Each socket is a record (socket.go) with one mutex over its queues and state;
// pending IRPs are records in the queues, not goroutines, and finish when the engine
// reports readiness. Terminal errors are sticky: Linux reports a reset once, the socket
// reports it to every later call. Every queue and count is bounded ([Limits]); a bound hit
// is STATUS_INSUFFICIENT_RESOURCES, never a panic.
//
// Use [Call] (or [irp.Do]) for a synchronous call from ordinary Go code.
//
// # Callbacks and buffers
//
// Event callbacks (the dispatch.Client*Dispatch tables) run on an engine loop goroutine under
// recover: they must not block and must never wait for a request on their own socket (they may
// start requests and close the socket). A panicking callback aborts its socket only (counted in
// [Stats].CallbackPanics). Buffers passed to a call stay the provider's until its IRP completes; an
// indication list a receive event retains (returns irp.Pending) is the application's until it gives
// it back with the table's Release. The rules in full are in package dispatch's Callbacks and
// Buffers sections.
//
// # Misuse
//
// Misuse is a status, never a panic: a bad argument or state is STATUS_INVALID_PARAMETER,
// STATUS_INVALID_DEVICE_STATE or STATUS_INVALID_HANDLE, and a breach the provider can only
// tolerate is counted in [Stats] (Misuse, DoubleDeregister, UnbalancedRelease) and logged
// to the [WithLogger] logger (silent without one). Misuse of the layers below is counted
// process-wide in Stats.IRPViolations (an IRP completed twice, a pending IRP freed or
// reused) and Stats.UnbalancedRundownReleases; irp and refcount log the first of each kind
// to slog.Default. With GOWSK_VERIFIER=1 these panic instead, like Driver Verifier.
//
// # The close protocol
//
// WskCloseSocket follows SPEC.md §3.1, in this order (socket_close.go):
//
//  1. begin the socket's rundown (done by dispatch's guard);
//  2. refuse new calls with STATUS_INVALID_HANDLE (the guard);
//  3. wait for the calls in flight (the guard);
//  4. start no new event callback and wait for the running ones to return;
//  5. cancel every pending IRP and complete it with STATUS_CANCELLED, Information 0,
//     and wait until every earlier IRP's completion has returned;
//  6. reset the connection (SO_LINGER{1,0}) unless it is disconnected in both directions
//     (a close after only a local graceful disconnect is still abortive) or the kernel
//     has already finished it (TCP_CLOSE: nothing left to reset, none counted);
//  7. leave the engine and close the descriptor once no handler of it runs: at once on
//     the closing goroutine when none is running (no hand-off to the loop), else on the
//     loop right after that handler returns;
//  8. complete the close IRP last: the single "everything is finished" signal.
//
// No step blocks: the waits are [refcount.Rundown.WaitFunc] continuations, so a completion
// routine or callback of the socket may close it. Never wait for the close IRP inside one
// of them. For a clean (FIN, no RST) close: Disconnect gracefully and wait for its IRP, see
// the peer's disconnect (a receive completing with 0 bytes), then close. Input the
// application never read means the peer's FIN was never seen, so that close is abortive
// too: counted in Stats.ResetsSent and sent at once, never a clean-looking close
// followed by a surprise RST from the kernel. Bytes a receive event was shown but did
// not take (held by the provider until a WskReceive or the next event takes them) are
// unread input in the same way.
//
// The provider never sets SO_LINGER > 0 on a descriptor (Linux would block in close and
// still not reset); an abortive disconnect sets SO_LINGER{1,0} and, on Linux, resets at
// once with connect(AF_UNSPEC), keeping the descriptor until close (elsewhere the reset
// goes out at the close: "Engines and platforms").
//
// # Locks and the close continuations
//
// The provider takes a socket's rundowns (calls in flight, callbacks) while it holds that
// socket's lock: the loop decides under the lock whether an event may start. That is safe
// only because a refused refcount Acquire never runs a drain (refcount's package doc,
// "Where a drain runs"). The other half of the rule is the provider's own: it never
// Releases a rundown, begins one, or completes an IRP while it holds a socket's lock. A
// continuation of the close protocol takes that lock, and a completion routine is user
// code. Every release and completion happens after the lock is dropped: the locked
// helpers (names ending in Locked) collect work in out and after lists, run once the lock
// is released.
//
// # Seeing it happen
//
// [WithObserver] stacks an [Observer] over every socket table of a registration: it sees each
// IRP submitted, cancelled and completed, and each step of the close protocol ([CloseStep]).
// Package wsk/wsktrace is the observer that shows them as runtime/trace tasks and regions (go
// tool trace) and as log/slog records at Debug level. Without WithObserver nothing is layered
// and each hook costs one nil test.
//
// # Deregistration
//
// [Registration.Deregister] is the last rundown: it wakes blocked captures
// (STATUS_DEVICE_NOT_READY), refuses new captures, provider calls and sockets, cancels
// pending WSK_TRANSPORT_LIST_CHANGE IRPs, and waits for every capture released, every provider
// call returned, every provider IRP completed and every socket closed. Then it stops the
// engine goroutines, so a deregistered provider leaves nothing running.
//
// # Engines and platforms
//
// [WithEngine] chooses the engine under a registration's sockets; without it Register
// reads the environment variable GOWSK_ENGINE ("epoll" or "portable"), else takes the OS's
// default. Every engine behaves the same: the provider's tests are one code, run once per
// engine (and under Wine for Windows, .ci/wine).
//
//	OS                         engines                    default
//	Linux                      epoll, portable            epoll
//	macOS, FreeBSD, other BSDs portable                   portable
//	Windows                    portable (WSAPoll)         portable
//	Plan 9, js, wasip1         none: Register answers STATUS_NOT_SUPPORTED
//
// On Unix the portable engine costs two parked goroutines and one duplicated descriptor
// per open socket, and a goroutine hand-off per readiness edge; on Windows it is one
// poller goroutine per loop in WSAPoll, which is level-triggered: the provider re-arms a
// direction after every EAGAIN (WSAEWOULDBLOCK) and every short read, the engine's
// "edges on a level-triggered poller". Every OS call of the provider is in
// wsk/internal/sock, one OS-neutral interface. Per-OS differences of the provider:
// outside Linux sockets are made nonblocking and close-on-exec after socket(2) and
// accept(2) (Windows: WSASocket without handle inheritance, FIONBIO; accepted sockets
// inherit nonblocking); macOS sets SO_NOSIGPIPE instead of sending with MSG_NOSIGNAL
// (Windows raises no signal); Windows IPv6 sockets are made dual-stack as they are on
// Unix, and UDP sockets ignore ICMP port-unreachable messages (SIO_UDP_CONNRESET off) as
// the Unix receive skips ECONNREFUSED; the TCP state that spares a reset to a connection
// the kernel already finished comes from TCP_INFO (Linux, FreeBSD), TCP_CONNECTION_INFO
// (macOS) or SIO_TCP_INFO (Windows 10 1703 and later), elsewhere the close resets
// whenever the rules say so; SIOQuerySendQueue comes from the same sources (Windows: the
// bytes in flight plus an unacknowledged FIN) and is STATUS_NOT_SUPPORTED where Windows
// lacks SIO_TCP_INFO; the keep-alive timing options need Windows 10 1709 (else
// STATUS_NOT_SUPPORTED). The reset-on-close rule (SO_LINGER {1, 0}, then close) holds on
// every engine and OS. An abortive disconnect that keeps the descriptor open resets at
// once on Linux (connect with AF_UNSPEC); where the OS has no such call (the BSDs, macOS,
// Windows), the linger-0 reset goes out when the socket closes. Errors map to the same
// statuses everywhere: WSAECONNRESET is STATUS_CONNECTION_RESET as ECONNRESET is.
//
// # Memory per connection
//
// An idle connection holds no goroutine, no IRP and no buffer: only its records. Their
// budget, record by record (bytes as allocated, i.e. rounded to the allocator's size class;
// TestPerConnectionBytes fails when a record outgrows it, TestAcceptAllocations when
// accepting allocates anything else):
//
//	record                               bytes  what
//	socket (socket.go)                     256  state, the two request queues (8 bytes
//	                                            each: rings through the ops, no array),
//	                                            the three rundown guards (dispatch.Socket's
//	                                            88 bytes hold one; inflight, callbacks: 16
//	                                            bytes each; a waiter block is made only if
//	                                            a close finds a call or callback holding
//	                                            the guard)
//	connEvents (conn_events.go)             32  with connection events on; the retained
//	                                            lists and the send backlog event's state
//	                                            (connEventsRare, 24) are made by their
//	                                            first use
//	engine.FD                               48  the registration; plus its table slot, 8
//	total                                  344
//
// What an established connection does not touch is in socketCold (socket_cold.go, 64),
// made on first use and never by an accepted connection that only sends and receives:
// the pending connect, the listening side, the peer's address after our FIN, disable
// requests waiting for a callback, the static events, SOCancelKeepsSent. A look the loop
// must take without an edge (a resumed receive event, a re-armed backlog report) waits
// in the loop's wake list (wake.go) as two bits of the socket: no closure per socket.
//
// What only a connection with data in flight needs comes from pools and goes back: the
// op of a pending request (176), the indication a receive event reads into (64 KiB,
// one per event being delivered), the buffer DRAIN discards into. Accepting allocates
// only the records above: the acceptedConn that carries a new connection to its consumer
// is pooled, the addresses are read onto the stack (wsk/internal/sock), and an accept
// event gathers no closure.
//
// # WSK names and Go names
//
//	WskRegister                          Register(*ClientNPI, ...Option) (*Registration, irp.Status)
//	WskDeregister                        (*Registration).Deregister
//	WskCaptureProviderNPI                (*Registration).CaptureProviderNPI(waitTimeoutMs)
//	WskReleaseProviderNPI                (*Registration).ReleaseProviderNPI
//	WskQueryProviderCharacteristics      (*Registration).QueryProviderCharacteristics
//	WSK_REGISTRATION                     Registration
//	WSK_CLIENT_NPI / WSK_PROVIDER_NPI    ClientNPI / ProviderNPI
//	WSK_PROVIDER_CHARACTERISTICS         Characteristics
//	WSK_NO_WAIT / WSK_INFINITE_WAIT      dispatch.NoWait / dispatch.InfiniteWait
//	MAKE_WSK_VERSION                     dispatch.MakeVersion
//	WSK_CLIENT_DISPATCH.WskClientEvent   dispatch.ClientDispatch.ClientEvent (never called:
//	                                     no events defined)
//
//	WSK_PROVIDER_DISPATCH (ProviderNPI.Dispatch):
//	  WskSocket                          .Socket        (every category: basic, listen,
//	                                                     connection, datagram, stream)
//	  WskSocketConnect                   .SocketConnect
//	  WskControlClient                   .ControlClient (TRANSPORT_LIST_QUERY,
//	                                                     TRANSPORT_LIST_CHANGE,
//	                                                     SET_STATIC_EVENT_CALLBACKS)
//	  WskGetAddressInfo                  .GetAddressInfo (net.DefaultResolver)
//	  WskFreeAddressInfo                 .FreeAddressInfo
//	  WskGetNameInfo                     .GetNameInfo
//
//	WSK_PROVIDER_BASIC_DISPATCH (Socket.Basic()):
//	  WskControlSocket                   .ControlSocket (SO_KEEPALIVE, SO_SNDBUF, SO_RCVBUF,
//	                                                     SO_ERROR, TCP_NODELAY,
//	                                                     SO_WSK_EVENT_CALLBACK,
//	                                                     SIO_WSK_QUERY_RECEIVE_BACKLOG,
//	                                                     SIO_WSK_QUERY_IDEAL_SEND_BACKLOG,
//	                                                     SIOQuerySendQueue: gowsk's, not WSK's)
//	  WskCloseSocket                     .CloseSocket
//	WSK_PROVIDER_CONNECTION_DISPATCH (Socket.Connection()):
//	  WskBind                            .Bind
//	  WskConnect                         .Connect
//	  WskGetLocalAddress                 .GetLocalAddress
//	  WskGetRemoteAddress                .GetRemoteAddress
//	  WskSend                            .Send
//	  WskReceive                         .Receive (WSK_FLAG_WAITALL, WSK_FLAG_DRAIN)
//	  WskDisconnect                      .Disconnect (graceful, WSK_FLAG_ABORTIVE)
//	  WskRelease                         .Release (lists retained by ReceiveEvent; unknown
//	                                     list: INVALID_PARAMETER)
//	  WskConnectEx                       .ConnectEx
//	  WskSendEx / WskReceiveEx           .SendEx / .ReceiveEx (reserved: STATUS_NOT_SUPPORTED)
//	WSK_PROVIDER_LISTEN_DISPATCH         Socket.Listen() (TCP, listen.go; backlog SOMAXCONN)
//	  WskBind                            .Bind (binds and listens)
//	  WskAccept                          .Accept (new socket in IoStatus.Object; a queued
//	                                     IRP beats the event)
//	  WskInspectComplete                 .InspectComplete (SO_CONDITIONAL_ACCEPT,
//	                                     listen_inspect.go)
//	  WskGetLocalAddress                 .GetLocalAddress
//	  SO_CONDITIONAL_ACCEPT              ControlSocket(Set/GetOption,
//	                                     dispatch.SOConditionalAccept), before bind
//	WSK_PROVIDER_DATAGRAM_DISPATCH       Socket.Datagram() (UDP v4/v6, datagram.go)
//	  WskSendTo / WskSendMessages        .SendTo / .SendMessages (complete once in the kernel)
//	  WskReceiveFrom                     .ReceiveFrom (MsgTrunc in controlFlags)
//	  WskRelease (datagram list)         .Release (lists retained by ReceiveFromEvent)
//	  SIO_WSK_SET_REMOTE_ADDRESS,        ControlSocket(Ioctl, ...) with a SOCKADDR input
//	  SIO_WSK_SET_SENDTO_ADDRESS           (SockaddrBytes / ParseSockaddr)
//	WSK_PROVIDER_STREAM_DISPATCH         Socket.Stream() (stream.go: Bind, then Listen or
//	                                     Connect commits)
//	  WskListen                          .Listen (others as the listen and connection tables)
//
//	Events (dispatch.Client*Dispatch), enabled with SO_WSK_EVENT_CALLBACK (events.go,
//	socket_control.go):
//	  WskReceiveEvent                    ClientConnectionDispatch.ReceiveEvent (read bytes,
//	                                     the rest held; serial; pause after partial or
//	                                     DATA_NOT_ACCEPTED; NULL list: dead)
//	  WskDisconnectEvent                 ClientConnectionDispatch.DisconnectEvent (peer FIN;
//	                                     RST with FlagAbortive)
//	  WskSendBacklogEvent                ClientConnectionDispatch.SendBacklogEvent
//	                                     (SO_SNDBUF/2, on change or drain)
//	  WskAcceptEvent                     ClientListenDispatch.AcceptEvent (nil socket:
//	                                     listener dead; inherits the listener's
//	                                     connection events)
//	  WskInspectEvent / WskAbortEvent    ClientListenDispatch.InspectEvent / .AbortEvent
//	                                     (after the kernel handshake: Reject resets)
//	  WskReceiveFromEvent                ClientDatagramDispatch.ReceiveFromEvent (NULL list:
//	                                     dead; undelivered datagrams: bounded backlog of
//	                                     256, drop when full, Stats.DatagramsDropped)
//	  WSK_CLIENT_STREAM_DISPATCH         ClientStreamDispatch{Listen, Connect} (accept event
//	                                     after bind; connection events once connected, or
//	                                     to inherit once listening)
//	  WSK_EVENT_DISABLE while running    STATUS_EVENT_PENDING (no IRP) / STATUS_PENDING,
//	                                     IRP completed when the call returned
//	  WSK_SET_STATIC_EVENT_CALLBACKS     ControlClient(dispatch.SetStaticEventCallbacks):
//	                                     once, before any socket; enabled at creation per
//	                                     category, never disabled (INVALID_PARAMETER), stay
//	                                     on after DATA_NOT_ACCEPTED
//
//	AF_INET, AF_INET6, SOCK_STREAM, …    AFInet, AFInet6 (23; Linux's 10 accepted), SockStream, …
//	SO_KEEPALIVE, SO_SNDBUF, TCP_NODELAY SOKeepAlive, SOSndBuf, TCPNoDelay (Winsock numbers)
package wsk
