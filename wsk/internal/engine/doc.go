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
// on both (GOWSK_ENGINE=portable). On Windows its readiness comes from
// WSAPoll instead ("The Windows engine" below); what follows is Unix.
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
// Three consequences for the owner. A HangupHandler that skips the read
// after a short one (a plain Readable: no hang-up came with the data) has
// met its EAGAIN there and rearms. A read that found the end of the stream
// or an error needs no rearm: nothing more is to be read. And a handler
// call may come before Register has returned the FD (the first readiness
// is reported at once): an owner that meets EAGAIN in that call before it
// holds the FD rearms once it does (a direction still watched costs one
// load), or registers from the loop goroutine (Post), where no handler of
// that loop runs before it has stored the FD.
//
// # The Windows engine
//
// On Windows the portable engine takes its readiness from WSAPoll. Go's
// runtime poller cannot watch an arbitrary socket handle there (its sockets
// complete through an I/O completion port; net.FileConn is unsupported and
// RawConn.Write waits for no readiness), so each loop has a poller
// goroutine of its own, blocked in WSAPoll without a timeout over the
// watched directions of the loop's sockets and a wake-up socket (UDP,
// bound to 127.0.0.1, connected to itself). Register, a rearm of a
// direction the poller no longer watches and Close send it a datagram when
// it sleeps, so that it builds its array again. It reports each direction
// once (POLLRDNORM is Readable, POLLWRNORM Writable) and watches it again
// after the rearm; a socket with no direction watched is left out of the
// array, because POLLHUP, POLLERR and POLLNVAL come back even for a socket
// that asks for nothing. POLLHUP and POLLERR report every watched
// direction (a reset or a failed connect concerns the writer too), and the
// read report then goes to ReadableHangup; without them a read report is a
// plain Readable, so the hang-up edges of the epoll engine hold here too.
// The poller hands the reports of one WSAPoll to the loop in one batch; the
// loop, posts, timers, Unregister and UnregisterFunc are the portable
// engine's, with the same guarantees.
//
// Ownership: there is no duplicate on Windows. The engine watches the
// owner's handle and never closes it; the owner's closesocket after
// Unregister (UnregisterCloseFunc's fn) is the last close, so SO_LINGER
// {1, 0} resets the connection. Closing a registered socket without
// Unregister is a bug the engine sees only while the handle value is
// unused: WSAPoll answers POLLNVAL, counted in Stats.StaleEvents, and the
// socket is no longer watched (the registration stays until Unregister).
// Windows reuses handle values at once, so a value registered again
// retires the old registration rather than being refused. Handles are
// uintptr but Register takes an int: Windows keeps handle values 32 bits
// significant (32- and 64-bit processes share them), so anything outside
// 0..2^32-1 is ErrBadFD, as is a handle that is not a socket.
//
// What it costs, compared with epoll:
//
//   - Each WSAPoll passes the whole array of the loop's watched sockets
//     and scans it on return: O(n) per wait in the number of watched
//     sockets, where epoll_wait costs O(ready).
//   - One poller goroutine per loop, whose OS thread stays in the system
//     call while it waits (the runtime hands its P to another thread).
//   - Readiness takes a hand-off: the poller wakes, queues the reports and
//     wakes the loop, as the Unix waiters do.
//   - No edge comes without its rearm: when the poller sleeps, a rearm
//     that watches a direction again costs a datagram send and a WSAPoll
//     turn (build, wait, drain). A busy connection pays this per EAGAIN.
//   - Unregister does not wake the poller: a WSAPoll in progress may still
//     hold the socket until the owner's closesocket ends it (POLLNVAL,
//     dropped as unregistered) or another wake-up comes.
//
// WSAPoll on Windows before Windows 10 version 2004 does not report a
// failed non-blocking connect (no POLLERR, no POLLHUP): a connect to a
// closed port then ends only by its timeout there, not with
// STATUS_CONNECTION_REFUSED. Later versions, and Wine, report POLLERR.
//
// # Platforms
//
// Linux has both engines (epoll is the default). The other Unix systems
// have the portable engine on the runtime poller (macOS, FreeBSD, the
// other BSDs), and Windows has it on WSAPoll (above); Config.Portable is
// implied outside Linux. On Plan 9, js and wasip1 the package compiles
// but New returns ErrUnsupported ("engine: unsupported OS"), and the
// provider's Register fails with STATUS_NOT_SUPPORTED: they have no
// readiness model on raw sockets at all.
package engine
