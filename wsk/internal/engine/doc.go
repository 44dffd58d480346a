// Package engine is the reactor under the WSK provider: a few loop
// goroutines own every socket descriptor, readiness drives the syscalls,
// and completions run on the loop. An idle connection costs a registration
// record (an FD, a table slot), never a goroutine or a buffer.
//
// # The model
//
// Each Loop is one goroutine around one epoll instance. Descriptors are
// registered once, edge-triggered, for IN|OUT|RDHUP. When the kernel
// reports readiness the loop calls the descriptor's Handler (Readable or
// Writable); the handler performs the non-blocking syscalls until EAGAIN
// and completes whatever IRPs they satisfy, right there on the loop. No
// goroutine waits per connection or per pending IRP: a pending receive is
// a record in the socket that the next Readable finishes.
//
// Code that runs on a loop (handlers, posted functions, timer functions)
// is the engine's DISPATCH_LEVEL: it must not block, because while it runs
// no other descriptor of that loop is served. Work that must block belongs
// on a goroutine of its own (the APC / worker-thread model). Every such
// callback runs under recover: a panic is counted in Stats.Panics, handed
// to Config.OnPanic, and the loop carries on.
//
// Other goroutines reach a loop through Post (a bounded FIFO queue: a full
// queue returns false, the caller maps it to
// STATUS_INSUFFICIENT_RESOURCES) and AfterFunc (a timer heap inside the
// loop; it bounds the loop's sleep, so deadlines and linger need no
// goroutine or runtime timer per socket). An eventfd wakes a sleeping loop;
// concurrent wakeups collapse into one write.
//
// # Sleeping
//
// A loop never blocks inside epoll_wait. It polls its epoll instance with a
// zero timeout as a raw system call, and when nothing is ready it parks in
// Go's own network poller on the epoll descriptor (readable while it has
// ready events), with a read deadline when a timer is due. A goroutine
// blocked in a system call would keep its P and thread, and make sysmon
// poll every 20 µs to hand the P off; the echo profile spent ~7 % of the
// server's CPU there. The provider's per-request reads and sends on
// nonblocking sockets are raw system calls for the same reason.
//
// The price: a parked loop is woken by the Go scheduler's network poll, like
// any goroutine of package net. When every P runs goroutines that never yield
// (tight loops, raw system calls), a wakeup can wait for the scheduler's next
// poll, up to sysmon's 10 ms. Ordinary Go code blocks or yields often enough
// that this does not show (TestStressConcurrentPost: 160,000 posts from 8
// producers in about 0.4 s under -race).
//
// # Descriptor reuse
//
// A descriptor number is reused by the kernel as soon as it is closed,
// while an event for the old descriptor may still sit in the loop's
// current epoll_wait batch (golang/go#59545). Every registration therefore
// gets a sequence number (fdseq) stored with the fd in the epoll user data;
// an event whose tag does not match the current registration is dropped
// and counted in Stats.StaleEvents. Unregister marks the FD before it
// returns, so no new handler call starts afterwards; UnregisterFunc runs a
// function once no handler of the FD can be running, the safe place to
// close(2): at once on the caller when none is in progress (FD.inHandler,
// a Dekker pair with the unregistered mark: no hand-off, no wake-up), else
// on the loop right after the running one returned.
//
// # Hang-up edges
//
// A handler that also implements HangupHandler learns whether a read edge
// carried EPOLLRDHUP, EPOLLHUP or EPOLLERR. Without them the edge only says
// that data arrived, so a read that comes back short has emptied the queue
// and the next arrival (data, FIN, reset) brings a new edge: the read that
// would only return EAGAIN can be skipped.
//
// # Names
//
//	Windows / WSK                      gowsk engine
//	I/O completion port, worker thread Loop (epoll + one goroutine)
//	DISPATCH_LEVEL routine             Handler method, posted func, timer func
//	KeInsertQueueDpc                   (*Loop).Post
//	KeSetTimer + KDPC                  (*Loop).AfterFunc, (*Timer).Stop
//	CreateIoCompletionPort (assoc.)    (*Engine).Register
//	handle close / rundown             (*FD).Unregister, (*FD).UnregisterFunc
//
// # The portable engine
//
// Config.Portable selects a second engine with the same API and the same
// rules, built on Go's runtime network poller (epoll, kqueue, event ports:
// whatever the OS has) instead of an epoll set of its own. It is the only
// engine outside Linux, and runs on Linux too, so that one test suite runs
// on both (GOWSK_ENGINE=portable).
//
// Register duplicates the descriptor (F_DUPFD_CLOEXEC) and wraps the
// duplicate in an *os.File, which registers it with the poller. Two waiter
// goroutines, one per direction, call syscall.RawConn Read and Write with a
// function that never finishes the operation: each call of it comes after
// the poller saw an edge, and queues a readiness note for the owning loop
// (at most one per direction and descriptor is queued). The loop clears
// the note and calls the Handler on the loop goroutine, so the rules of
// the model hold unchanged: one goroutine per loop runs every handler,
// posted function and timer function; Unregister stops new calls; the
// UnregisterFunc protocol is the same. The poller consumes an edge when a
// wait returns, so an edge during the handler call wakes the waiter again:
// none is lost. Each waiter's first pass queues a note at once, as epoll
// reports a ready descriptor when it is added.
//
// Ownership is explicit: the owner keeps its descriptor and closes it
// itself; the engine closes only its duplicate, through the File, at
// Unregister (or Close), after waking its waiters. It does so before
// UnregisterFunc's fn runs, so the owner's close(2) drops the last
// reference to the socket and SO_LINGER {1, 0} still resets the
// connection. A duplicate also means Register cannot see an owner's close
// without Unregister; a number registered again is compared by device and
// inode (fstat): the same socket is EEXIST, another one retires the dead
// registration. Loops are chosen round-robin (the duplicates make numbers
// alternate, so fd mod Loops would not spread).
//
// What it costs, compared with epoll:
//
//   - Two goroutines per registered descriptor (Stats.Waiters), parked in
//     the poller, and one more descriptor (the duplicate): bounded by the
//     number of registrations, which the provider bounds (Limits.MaxSockets).
//   - A goroutine hand-off per readiness edge: waiter wakes, queues, wakes
//     the loop, where epoll hands the loop a batch of events in one call.
//     Every read edge may also wake the write waiter (the poller reports a
//     writable socket with each edge), which queues a Writable the handler
//     finds nothing to do for.
//   - Unregister blocks until the waiters have left the poller (a few
//     scheduler hand-offs).
//   - The poller does not say whether an edge carried a hang-up, so a
//     HangupHandler always gets ReadableHangup: it reads until EAGAIN or EOF
//     and never skips the read that would find the FIN.
//   - Loops sleep on a channel and a runtime timer instead of a netpoller
//     wait on the epoll descriptor; Stats.Wakeups counts channel wakeups.
//
// # Edges on a level-triggered poller
//
// The Handler contract is edge-triggered. epoll (EPOLLET) and the runtime
// poller on Unix deliver edges themselves. A level-triggered poller would
// report a socket whose data nobody reads on every wait, and spin the loop,
// so such an engine stops watching a direction once it has reported it and
// watches it again when the owner says it met EAGAIN there: FD.RearmRead
// and FD.RearmWrite. Level plus re-arm-on-EAGAIN is an edge: readiness that
// arrives between the EAGAIN and the re-arm is still seen, as the level is
// still high at the next wait. Every read and write path of the owner calls
// them after EAGAIN; the edge-triggered engines make them no-ops.
//
// # Platforms
//
// Linux has both engines (epoll is the default). The other Unix systems
// have the portable engine (macOS, FreeBSD, the other BSDs). On Windows,
// Plan 9, js and wasip1 the package compiles but New returns
// ErrUnsupported ("engine: unsupported OS"), and the provider's Register
// fails with STATUS_NOT_SUPPORTED: Windows has no readiness model on raw
// sockets that the runtime poller exposes (its sockets complete through
// I/O completion ports), so neither engine applies.
package engine
