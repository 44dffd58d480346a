//go:build darwin

package sock

import "golang.org/x/sys/unix"

// msgNoSignal is 0 on macOS: SO_NOSIGPIPE, set on every socket (noSigpipe), keeps a send
// on a reset connection from raising SIGPIPE.
const msgNoSignal = 0

func noSigpipe(fd int) error {
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_NOSIGPIPE, 1)
}
