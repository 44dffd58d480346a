// Package lsp is a layered service provider (an LSP) for the Winsock layer of gowsk
// (package wsk/winsock): it sits between the switch and the provider below it, counts
// every call, can inject faults, and does what a Windows LSP must:
//
//   - it exposes handles of its own, made with WPUCreateSocketHandle, carrying its
//     per-socket context (read back with WPUQuerySocketHandleContext), and talks to
//     the layer below through that layer's handle;
//   - it intercepts overlapped completions: the layer below gets a substitute
//     Overlapped and a completion routine of the LSP, issued from the LSP's own worker
//     goroutine, whose thread context it opened with WPUOpenCurrentThread (and closes
//     with WPUCloseThread when the worker ends); the worker's alertable wait runs those
//     routines, which complete the application's operation (WPUQueueApc to the
//     application's thread, or WPUCompleteOverlappedRequest);
//   - its WSPCloseSocket closes the lower socket at once and defers
//     WPUCloseSocketHandle until every operation still outstanding on its handle has
//     completed: the handle's last upcall.
//
// # Windows names and Go names
//
//	WSPStartup (of the LSP)            Layer.Provider().Startup
//	WSPPROC_TABLE (of the LSP)         the *winsock.WSPProcTable Startup returns
//	lower provider's WSPPROC_TABLE     the lower argument of Startup
//	WSATHREADID of the worker          the worker's *winsock.Thread (ID())
//
// Faults: Layer.InjectFault makes the next n calls of a member fail with a code,
// without reaching the layer below (a test-only tool; the default is no fault).
package lsp
