//go:build unix && !linux && !darwin

package sock

// noSigpipe: MSG_NOSIGNAL on every send does it here (msgNoSignal).
func noSigpipe(int) error { return nil }
