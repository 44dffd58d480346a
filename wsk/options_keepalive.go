package wsk

// TCP keep-alive timing options (level IPPROTO_TCP), with their Winsock numbers
// (ws2ipdef.h): the idle time before the first probe and the interval between probes,
// in seconds, 4-byte little-endian integers as every option. The provider translates
// them to Linux's TCP_KEEPIDLE and TCP_KEEPINTVL. SO_KEEPALIVE turns probing on.
const (
	TCPKeepAlive = 3  // TCP_KEEPALIVE (Winsock's name for the idle time; Linux TCP_KEEPIDLE)
	TCPKeepIntvl = 17 // TCP_KEEPINTVL
)

// SOCancelKeepsSent is a gowsk socket option (level SOL_SOCKET; no Windows counterpart)
// of connection sockets: set to 1, cancelling a send of which part is already in the
// kernel completes it with STATUS_CANCELLED and Information = the bytes taken, and the
// connection stays usable, as a timed-out write of Go's net does. By default (0) such a
// cancel resets the connection, since a caller that ignores Information would go on
// after a torn send. A caller that sets it must honour Information on a cancelled send.
const SOCancelKeepsSent = 0x7001
