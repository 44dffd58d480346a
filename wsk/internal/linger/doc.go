// Package linger closes one wsk connection socket the way a Winsock (or Go net)
// application expects, on top of WSK's rule that a close of a connection not
// disconnected in both directions is abortive. It is shared by the Winsock layer
// (wsk/winsock) and the net.Conn adapter; both drive it through an [Engine].
//
// # The three kinds of close
//
//   - [Engine.Background] is linger {0,*}: it returns at once. The engine issues a
//     graceful Disconnect (the FIN goes out after every send already queued) and
//     keeps the socket until the peer's FIN arrives, then closes it with no reset.
//     Data arriving after the close resets the connection (as Linux and Windows do),
//     and so does a bounded wait for the FIN (Config.FINTimeout) running out. The
//     number of sockets closing in the background is bounded (Config.MaxBackground):
//     a close that finds the table full is an abortive close, counted in
//     Stats.ResetRefused. If the owner shut the send side before (a graceful
//     Disconnect of its own, Winsock's shutdown(SD_SEND)), the engine's Disconnect is
//     refused and it waits for the send queue to empty instead: the owner's FIN out.
//   - [Engine.Hard] is linger {1,0}: an abortive Disconnect at once (RST, unsent data
//     dropped, no TIME_WAIT), then CloseSocket.
//   - [Engine.Timed] is linger {1,n}: it starts a background close and blocks the
//     calling goroutine (never an engine loop) until the data, FIN included, is
//     delivered (sent and acknowledged: wsk.SIOQuerySendQueue reads 0) or n has
//     passed. Delivered in time: it returns and the FIN wait goes on in the
//     background. Otherwise it resets the connection and returns once the reset is
//     sent. The wait runs through a caller-supplied [WaitFunc], so the Winsock
//     layer's alertable wait can run APCs while it lingers.
//
// [Unsent] reads the send bytes not yet acknowledged, for a nonblocking {1,n} close
// that must fail with WSAEWOULDBLOCK instead of waiting.
//
// # Mechanism
//
// A background close is a record, not a goroutine: two IRPs (the graceful
// Disconnect and a small Receive that watches for the peer's FIN or for late data),
// a timer (time.AfterFunc) for the FIN wait, and the close IRP. Their completion
// routines move a state word by CAS; whichever event decides the outcome first wins
// the closing bit and issues CloseSocket. WSK completes every earlier IRP before the
// close IRP, so the close IRP's routine is the single "finished" signal: it records
// the outcome, stops the timer and wakes [Engine.Shutdown] waiters.
//
// # Shutting down
//
// [Engine.Shutdown] refuses new background closes (they become hard closes, counted
// in Stats.ResetShutdown), waits for the running ones until its context ends, then
// aborts the rest and waits for their close IRPs, which never wait on the network.
// After it returns nothing of the engine runs, so a test's goleak check is clean and
// the wsk registration can be deregistered.
package linger
