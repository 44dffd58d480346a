// Package wsktrace shows what happens to IRPs: each one's life, from the call that submits
// it to its completion, and the steps of a socket's close, as runtime/trace tasks, regions
// and logs for `go tool trace`, and as log/slog records at Debug level for people who
// would rather read than look.
//
// # Turning it on
//
// A [Recorder] is a [wsk.Observer]; give it to Register:
//
//	rec := wsktrace.New(nil) // or wsktrace.New(logger): Debug records too
//	reg, st := wsk.Register(npi, wsk.WithObserver(rec))
//
// and record a trace around the code to look at (runtime/trace.Start, runtime/trace.Stop,
// or `go test -trace`), then open it with `go tool trace FILE`. Without WithObserver
// nothing is recorded and nothing is paid: the provider's hooks are one nil test each.
// With it each socket IRP needs one more stack location (Socket.StackSize counts it); the
// recorder does its work only while a trace is being recorded or its logger takes Debug
// records, and otherwise costs one layer's call per IRP.
//
// BenchmarkEchoIRP measures it: a 64-byte echo between two gowsk sockets, four IRPs. On a
// shared 2-core machine, without the option and with the recorder installed but idle, the
// echo allocates nothing and takes the same time as without the hooks at all (within
// the run-to-run noise, a few percent). Recording a trace costs about 1.3 times the CPU
// time per echo and 6 allocations per IRP; slog records to a text handler about 1.7 times
// and 8 allocations per IRP.
//
// # What it records
//
// Every socket is a task of type "socket". Every IRP a socket call submits is a task of
// its own, a child of its socket's task, named after the call ("WskReceive",
// "WskCloseSocket", ...). An IRP reused and submitted again is a new task. On an IRP's
// task, in order, category "irp":
//
//	submitted                               the call reached the provider
//	pending                                 the provider kept it (the call returns STATUS_PENDING)
//	cancel                                  a Cancel reached it while the provider held it
//	completion routine: PendingReturned ... the recorder's completion routine ran
//	completed STATUS_..., Information N     its final IoStatus; the task ends here
//
// The close protocol's steps are on the socket's task: steps 1–3, 4 and 6 as logs of
// category "close", steps 5, 7 and 8 as regions ("close 5: cancel every pending IRP",
// "close 7: close the descriptor", "close 8: complete the close IRP"); the socket's task
// ends when the close IRP has completed. So the close of a socket with three pending
// receives shows, under its socket's task, three WskReceive tasks that end with
// "completed STATUS_CANCELLED" inside the region of step 5, and the WskCloseSocket task
// ending last, inside the region of step 8.
//
// The slog records carry the same events: "socket", "irp submitted", "irp pending", "irp
// cancel", "irp completed", "close step" and "socket closed", with the socket's and the
// IRP's numbers (socket=3 irp=17) so that one IRP's records can be picked out. "irp
// pending" and "irp cancel" happen while the provider holds the socket's lock, where no
// logger may run: their records are written when the IRP completes, with the time at
// which they happened.
//
// # What it cannot see
//
// The recorder is a layer below dispatch's guard. A call the guard refuses (the socket is
// closing: STATUS_INVALID_HANDLE) never reaches it, nor do provider-level calls
// (WskSocket, WskSocketConnect, WskControlClient: they take no socket) or event
// callbacks (no IRP). Of the completion routines of an IRP it sees its own run; the
// application's routine, in the location above, runs right after it on the same
// goroutine.
//
// # Windows names and Go names
//
//	a filter device attached over the provider   wsk.WithObserver(rec): a layer over every
//	                                             socket table (dispatch.Layer)
//	IRP tracking (Driver Verifier, !irp)          one task per IRP submission
//	ETW events, viewed in WPA                     runtime/trace events, viewed in go tool trace
//	WPP / DbgPrint tracing                        log/slog records at slog.LevelDebug
package wsktrace
