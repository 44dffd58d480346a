package sock

// Option names an integer socket option the provider gets or sets (GetInt, SetInt), by
// its meaning rather than by one OS's (level, name) pair.
type Option int

const (
	OptKeepAlive Option = iota // SOL_SOCKET SO_KEEPALIVE: 0 or 1
	OptSndBuf                  // SOL_SOCKET SO_SNDBUF: bytes, as Winsock counts them
	OptRcvBuf                  // SOL_SOCKET SO_RCVBUF: bytes, as Winsock counts them
	OptError                   // SOL_SOCKET SO_ERROR: the pending error (read-only)
	OptNoDelay                 // IPPROTO_TCP TCP_NODELAY: 0 or 1
	OptKeepIdle                // IPPROTO_TCP TCP_KEEPIDLE: seconds before the first probe
	OptKeepIntvl               // IPPROTO_TCP TCP_KEEPINTVL: seconds between probes
)
