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
// # Platforms
//
// Only Linux has a reactor so far. On every other OS the package compiles
// but New returns ErrUnsupported ("engine: unsupported OS"), and the
// provider's Register fails with STATUS_NOT_SUPPORTED: there is no other
// engine to fall back to.
package engine
