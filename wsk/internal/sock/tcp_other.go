//go:build unix && !linux && !darwin && !freebsd

package sock

// The kernel's view of a TCP connection has no portable source on the other Unix
// systems.

// TCPFinished answers false: a close that the provider's rules make abortive always
// sets SO_LINGER {1, 0}. On a connection the kernel already finished that sends nothing
// harmful, but the provider counts a reset sent.
func TCPFinished(int) bool { return false }

// SendQueue answers 0: only the provider's own unsent bytes are counted.
func SendQueue(int) (int, error) { return 0, nil }

// The keep-alive timing options: not settable per socket here (Supported is false).
const tcpKeepIdle, tcpKeepIntvl = -1, -1
