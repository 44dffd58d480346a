// Package winsock is the user-mode Winsock model of gowsk, built on package wsk exactly
// as an application would use it (only the public API of wsk, dispatch, irp and
// refcount). It has the three layers of Windows:
//
//  1. the switch (the Winsock API an application calls: methods of [Thread] and [WSA]):
//     the handle table, graceful close, SO_LINGER, SO_DONTLINGER, nonblocking close,
//     shutdown's rules, duplicated handles;
//  2. the service-provider interface: [WSPProcTable], the functions a provider gives
//     the switch (or the layer above it), and [Upcalls], the WPU functions a provider
//     calls back;
//  3. providers: the base provider over wsk sockets, whose WSPCloseSocket is a hard
//     close only, as the SAN provider's; layered providers stacked on it with
//     [WithLayer] (package wsk/winsock/lsp is one).
//
// # Threads
//
// Go has no thread identity, so the model gives it an explicit one: a [Thread] is a
// thread context owned by one goroutine (WSA.OpenThread, or WPUOpenCurrentThread for a
// provider's worker). Every Winsock call is made through a Thread, as every Windows
// call is made by a thread. Completion routines of overlapped calls are queued to the
// issuing Thread as APCs and run only at its alertable points: [Thread.SleepEx],
// [Thread.WaitForSingleObjectEx], [Thread.WSAWaitForMultipleEvents] with alertable set,
// and a lingering closesocket. Calls may be made from inside an APC.
//
// # Closing
//
// closesocket ([Thread.Closesocket]) follows the linger table (its doc has the protocol);
// the background part ({0,*}, and a delivered {1,n}) is the engine of
// wsk/internal/linger: a record per socket with IRP completions and a timer, no
// goroutine, bounded in number ([WithBackgroundCloses]). The library never sets a
// kernel SO_LINGER > 0 (Linux would block a thread, then not reset). Pending overlapped
// operations complete exactly once with WSA_OPERATION_ABORTED, through the notification
// each chose, possibly after closesocket returned, and only after the provider gave
// back what it held for them (the user's buffers).
//
// # Winsock, WSP and WPU names and Go names
//
//	WSAStartup / WSACleanup             WSAStartup(MakeWord(2,2), ...Option) / (*WSA).WSACleanup
//	WSADATA, MAKEWORD                   WSAData, MakeWord
//	WSAGetLastError                     the *Error returned (Code; CodeOf(err))
//	WSAEnumProtocols                    (*WSA).WSAEnumProtocols
//	SOCKET, INVALID_SOCKET              Socket, InvalidSocket
//	socket / WSASocket                  (*Thread).Socket / .WSASocket (FromProtocolInfo)
//	bind, listen, accept, connect       .Bind, .Listen, .Accept, .Connect
//	send, recv, sendto, recvfrom        .Send, .Recv, .SendTo, .RecvFrom
//	WSASend, WSARecv                    .WSASend, .WSARecv (Overlapped, CompletionRoutine)
//	WSASendTo, WSARecvFrom              .WSASendTo, .WSARecvFrom
//	WSAGetOverlappedResult              .WSAGetOverlappedResult
//	shutdown (SD_RECEIVE/SEND/BOTH)     .Shutdown (SDReceive, SDSend, SDBoth)
//	setsockopt, getsockopt              .Setsockopt, .Getsockopt (SOLSocket, SOLinger, SODontLinger,
//	                                    SOError, SORcvBuf, SOSndBuf, SOKeepAlive, SOType,
//	                                    IPProtoTCPLevel+TCPNoDelay; Linger, IntOpt, ParseLinger)
//	ioctlsocket (FIONBIO, FIONREAD)     .Ioctlsocket
//	closesocket                         .Closesocket
//	getsockname, getpeername            .GetSockName, .GetPeerName
//	WSADuplicateSocket                  .WSADuplicateSocket (ProtocolInfo, single use)
//	WSAEventSelect                      .WSAEventSelect (FDRead, FDWrite, FDAccept, FDConnect,
//	                                    FDClose)
//	WSAEnumNetworkEvents                .WSAEnumNetworkEvents (NetworkEvents)
//	WSACreateEvent, WSASetEvent,        WSACreateEvent, WSASetEvent, WSAResetEvent, WSACloseEvent
//	  WSAResetEvent, WSACloseEvent        (WSAEVENT = *Event)
//	WSAWaitForMultipleEvents            (*Thread).WSAWaitForMultipleEvents
//	WaitForSingleObjectEx, SleepEx      (*Thread).WaitForSingleObjectEx, .SleepEx
//	CreateIoCompletionPort              (*Thread).CreateIoCompletionPort
//	GetQueuedCompletionStatus           (*CompletionPort).GetQueuedCompletionStatus
//	PostQueuedCompletionStatus          (*CompletionPort).PostQueuedCompletionStatus
//	WSAOVERLAPPED (hEvent)              Overlapped (Event)
//	LPWSAOVERLAPPED_COMPLETION_ROUTINE  CompletionRoutine
//	WSAPROTOCOL_INFOW                   ProtocolInfo
//	WSATHREADID                         ThreadID (Thread.ID)
//	WSPStartup                          Provider.Startup
//	WSPPROC_TABLE                       WSPProcTable: WSPAccept .Accept, WSPBind .Bind,
//	                                    WSPCleanup .Cleanup, WSPCloseSocket .CloseSocket,
//	                                    WSPConnect .Connect, WSPEnumNetworkEvents
//	                                    .EnumNetworkEvents, WSPEventSelect .EventSelect,
//	                                    WSPGetPeerName, WSPGetSockName, WSPGetSockOpt,
//	                                    WSPIoctl .Ioctl (SIOTakeConnection, SIOQuerySendQueue),
//	                                    WSPListen, WSPRecv, WSPRecvFrom, WSPSend, WSPSendTo,
//	                                    WSPSetSockOpt, WSPShutdown, WSPSocket
//	WPUCreateSocketHandle               Upcalls.CreateSocketHandle
//	WPUCloseSocketHandle                Upcalls.CloseSocketHandle
//	WPUQuerySocketHandleContext         Upcalls.QuerySocketHandleContext
//	WPUCompleteOverlappedRequest        Upcalls.CompleteOverlappedRequest
//	WPUOpenCurrentThread                Upcalls.OpenCurrentThread (WSA.OpenThread)
//	WPUCloseThread                      Upcalls.CloseThread (WSA.CloseThread)
//	WPUQueueApc                         Upcalls.QueueApc (APCFunc)
//	WSAE*, WSA_* codes                  irp.WSAError (type WSAError), plus the codes of errors.go
//
// # Stricter than Windows
//
//   - A closed or never-issued SOCKET is WSAENOTSOCK always, even once its slot (and the
//     kernel's descriptor) is reused: handles carry a generation (handles.go). Windows
//     may hand a closed value out again at once.
//   - closesocket racing another call on the same SOCKET is defined: the call is
//     refused (WSAENOTSOCK) or completes (a blocking one with WSAEINTR, an overlapped one
//     with WSA_OPERATION_ABORTED); never a use-after-close. Windows leaves it to the
//     application. A call that fails once the close has taken the SOCKET out of the table
//     answers WSAENOTSOCK, whatever the provider's closed socket said; two closesockets
//     of one SOCKET at once: one decides, the other waits for its decision and answers
//     WSAENOTSOCK only once the SOCKET is gone (or decides itself, if the first one was
//     handed back with WSAEWOULDBLOCK). Every call linearizes (TESTING.md case 49).
//   - A Thread used by two goroutines at once is refused (WSAEINPROGRESS).
//   - An overlapped call that started and failed at once reports WSA_IO_PENDING and
//     delivers the failure through its notification: a notification comes exactly when
//     the call returned nil or WSA_IO_PENDING.
//
// # Where Windows is silent, the model decides
//
//   - A blocking call ended by closesocket from another goroutine returns WSAEINTR.
//   - A send pending at a graceful close completes with WSA_OPERATION_ABORTED at once
//     (its bytes are the provider's copy) and the bytes still go out as the queued data
//     the {0,*} close promises; the provider copies every send for this reason.
//   - WPUCloseThread with APCs queued runs them on the caller (the context's owner: its
//     last alertable point); later WPUQueueApc calls get WSAEFAULT; a second
//     WPUCloseThread gets WSAEINVAL. WSACleanup counts and logs contexts left open and
//     drops their queues.
//   - WSACleanup closes what is left as closesocket would, except that nothing waits
//     ({1,n} resets at once); background closes get WithCleanupGrace, then reset.
//   - Data arriving after a {0,*} close, and a peer's FIN not arriving within
//     WithBackgroundCloses' timeout, reset the connection (counted in Stats).
//   - An unknown or used protocol info is WSAEINVAL; an unknown catalog id in
//     WPUCreateSocketHandle is WSAEINVAL.
//   - FIONREAD of a datagram socket is 0 (wsk does not report a datagram backlog).
package winsock
