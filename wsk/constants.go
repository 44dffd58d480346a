package wsk

// Address families, socket types and protocols as WSK spells them (the Windows values:
// AF_INET6 is 23 there, 10 on Linux; the provider accepts both for IPv6).
const (
	AFInet     = 2  // AF_INET
	AFInet6    = 23 // AF_INET6 (Windows value)
	SockStream = 1  // SOCK_STREAM
	SockDgram  = 2  // SOCK_DGRAM
	IPProtoTCP = 6  // IPPROTO_TCP
	IPProtoUDP = 17 // IPPROTO_UDP
)

// Winsock-level socket option numbers understood by ControlSocket (level SOL_SOCKET =
// dispatch.SOLSocket, or IPPROTO_TCP for TCP_NODELAY). The provider translates them to
// the Linux numbers.
const (
	SOKeepAlive = 0x0008 // SO_KEEPALIVE
	SOLinger    = 0x0080 // SO_LINGER: STATUS_NOT_SUPPORTED; a WSK socket has no linger, close decides (doc.go)
	SOSndBuf    = 0x1001 // SO_SNDBUF
	SORcvBuf    = 0x1002 // SO_RCVBUF
	SOError     = 0x1007 // SO_ERROR
	TCPNoDelay  = 0x0001 // TCP_NODELAY (level IPPROTO_TCP)
)
