//go:build unix && !linux && !darwin && !freebsd

package wsk

import "golang.org/x/sys/unix"

const msgNoSignal = unix.MSG_NOSIGNAL

func noSigpipe(int) error { return nil }

// tcpFinished has no portable source of the TCP state here: it answers false, so a close
// that the rules make abortive always sets SO_LINGER {1, 0}. On a connection the kernel
// already finished that sends nothing harmful, but Stats.ResetsSent counts it.
func tcpFinished(int) bool { return false }

// kernelSendQueue has no portable source here: only the provider's own unsent bytes
// are counted (sendQueueLocked).
func kernelSendQueue(int) (int, error) { return 0, nil }

// The keep-alive timing options: not settable per socket here (-1: STATUS_NOT_SUPPORTED).
const tcpKeepIdle, tcpKeepIntvl = -1, -1
