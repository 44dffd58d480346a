// Package dispatch holds the WSK dispatch tables (the contract between a WSK application
// and a provider), the [Socket] object they hang off, the rundown guard that makes close
// safe, the layering mechanism, and the small data types that travel through the tables
// (buffers, indications, the event-callback control block).
//
// Section numbers (SPEC.md §2.4) cite the repository's specification; "invariant N" is
// the N-th invariant of its numbered list, SPEC.md §10.
//
// # The contract
//
// A provider hands out a *[Socket] whose Dispatch field is a table of function members in
// the exact order of wsk.h (SPEC.md §2.4; invariant 7): [BasicDispatch],
// [ListenDispatch], [ConnectionDispatch], [DatagramDispatch] or [StreamDispatch]. The
// category of the socket (WSK_FLAG_*_SOCKET: basic 0, listen 1, connection 2, datagram 4,
// stream 8; invariant 8) fixes the table's type. Every table embeds BasicDispatch first,
// so [Socket.Basic] is the Go form of C's cast to PWSK_PROVIDER_BASIC_DISPATCH.
//
// Each member takes the socket first and, where WSK takes an IRP, the *[irp.IRP] last. The
// return value follows the IRP rules of SPEC.md §2.6 and §4.5: [irp.Pending] means
// "completes later"; any other value means the IRP has already been completed with that
// status (IoStatus.Status equals the returned value).
//
// # Buffers
//
// A [Buf], [BufList], address or output pointer passed to a member belongs to the provider
// from the call until its IRP completes: the caller must not read, write or reuse it before
// the completion routine runs (or the call returned a status other than irp.Pending).
// A [DataIndication] or [DatagramIndication] list passed to a receive event is the
// reverse: it belongs to the provider. Returning irp.Success or irp.DataNotAccepted gives
// it back at once (keep no pointer into it); returning irp.Pending lends it to the
// application until it calls the table's Release member (WskRelease) with the list,
// exactly once, on any goroutine.
//
// # Callbacks
//
// The client tables ([ClientDispatch], [ClientListenDispatch], [ClientConnectionDispatch],
// [ClientDatagramDispatch], [ClientStreamDispatch]) are the application's event callbacks;
// the provider calls them. A nil member is a callback that is never enabled. Callbacks run
// on the provider's engine goroutine, which serves many sockets, so a callback:
//
//   - must not block;
//   - must never wait for a WSK request on its own socket to complete (it may start
//     requests, and may call CloseSocket, which then completes after the callback
//     returned);
//   - runs under recover: a panic aborts only that socket (its connection is reset).
//
// Completion routines follow the same rules: they run on whatever goroutine finished the
// request, with no provider lock held.
//
// # The guard
//
// Socket.Dispatch is never the provider's own table: [NewSocket] points it at a static
// guard table of the category, and keeps the provider's table (the "inner" table) inside
// the socket. Every guarded call takes a reference on the socket's [refcount.Rundown] for
// its duration. CloseSocket wins a CAS on the closing flag, marks its IRP pending, begins
// the rundown and hands the close to the provider only when every call in flight has
// returned ([refcount.Rundown.WaitFunc]). Hence (SPEC.md §3.2, §9, invariant 21):
//
//   - no call reaches the provider after its CloseSocket has been entered;
//   - a call that races with or follows close returns [irp.InvalidHandle], its IRP
//     completed exactly once with that status;
//   - close may be called from a completion routine or event callback of a call still in
//     progress on the same socket: it returns irp.Pending at once and the provider's close
//     runs when that call unwinds (no deadlock);
//   - CloseSocket always returns irp.Pending (the guard marked the IRP pending), a second
//     close returns irp.InvalidHandle.
//
// The provider enters provider-level calls (the [ProviderDispatch] members) with
// [EnterProvider], the same callee half of IoCallDriver the guard uses.
//
// # Layers
//
// [Layer](inner, f, dev) builds a table of inner's category whose members let a [Filter]
// see each call and optionally set a completion routine on the IRP's next stack location,
// then move the IRP into a location owned by dev and forward to inner — the way a filter
// driver sits above another with IoSetCompletionRoutine and IoCallDriver. Layer is generic
// over [Table], so layering anything but a table is a compile error. Each layer adds one
// stack location; [Socket.StackSize] reports 1 + layers (the depth travels in the table).
// [Counter] is a ready Filter that counts calls and completions per [Member].
//
// # Windows names
//
//	WSK_PROVIDER_DISPATCH                 ProviderDispatch
//	WSK_PROVIDER_BASIC_DISPATCH           BasicDispatch
//	WSK_PROVIDER_LISTEN_DISPATCH          ListenDispatch
//	WSK_PROVIDER_DATAGRAM_DISPATCH        DatagramDispatch
//	WSK_PROVIDER_CONNECTION_DISPATCH      ConnectionDispatch
//	WSK_PROVIDER_STREAM_DISPATCH          StreamDispatch
//	WSK_CLIENT_DISPATCH                   ClientDispatch
//	WSK_CLIENT_LISTEN_DISPATCH            ClientListenDispatch
//	WSK_CLIENT_DATAGRAM_DISPATCH          ClientDatagramDispatch
//	WSK_CLIENT_CONNECTION_DISPATCH        ClientConnectionDispatch
//	WSK_CLIENT_STREAM_DISPATCH            ClientStreamDispatch
//	WSK_SOCKET                            Socket (Dispatch = guard table)
//	WSK_CLIENT                            Client
//	WSK_BUF (Mdl, Offset, Length)         Buf (First+Rest, Offset, Length)
//	WSK_BUF_LIST                          BufList
//	WSK_DATA_INDICATION                   DataIndication
//	WSK_DATAGRAM_INDICATION               DatagramIndication
//	WSK_INSPECT_ID                        InspectID (compare and copy by value)
//	WSK_FLAG_BASIC/LISTEN/CONNECTION/…    BasicSocket … StreamSocket
//	WSK_FLAG_ABORTIVE, _RELEASE_ASAP, …   FlagAbortive …
//	WSK_FLAG_OOB, _NODELAY, _WAITALL, …   FlagOOB …
//	WSK_EVENT_RECEIVE … WSK_EVENT_DISABLE EventReceive … EventDisable
//	SO_WSK_EVENT_CALLBACK                 SOWskEventCallback, with EventCallbackControl
//	WSK_EVENT_CALLBACK_CONTROL            EventCallbackControl (Marshal / Parse: 20 bytes)
//	WskSendEx / WskReceiveEx (reserved)   SendEx / ReceiveEx: always irp.NotSupported
package dispatch
