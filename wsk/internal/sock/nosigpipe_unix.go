//go:build unix && !darwin

package sock

import "golang.org/x/sys/unix"

// msgNoSignal keeps a send on a reset connection from raising SIGPIPE (EPIPE instead).
const msgNoSignal = unix.MSG_NOSIGNAL
