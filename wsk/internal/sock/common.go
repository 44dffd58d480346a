//go:build unix || windows

package sock

import "syscall"

// The parts of the interface that are one code on every OS, over the OS files' system
// calls (optName, getsockoptInt, setsockoptInt, ...).

// Supported reports whether the OS has o at all (the keep-alive timing is not settable
// per socket everywhere).
func Supported(o Option) bool {
	_, name := optName(o)
	return name >= 0
}

// GetInt reads o; the buffer sizes as Winsock counts them (bufferSize).
func GetInt(fd int, o Option) (int, error) {
	level, name := optName(o)
	if name < 0 {
		return 0, errNoOption
	}
	v, err := getsockoptInt(fd, level, name)
	if o == OptSndBuf || o == OptRcvBuf {
		v = bufferSize(v)
	}
	return v, optErr(o, err)
}

// SetInt sets o to v.
func SetInt(fd int, o Option, v int) error {
	level, name := optName(o)
	if name < 0 {
		return errNoOption
	}
	return optErr(o, setsockoptInt(fd, level, name, v))
}

// soError reads SO_ERROR.
func soError(fd int) (int, error) {
	level, name := optName(OptError)
	return getsockoptInt(fd, level, name)
}

// ConnectResult reports how a nonblocking connect ended: done is false while it is still
// in progress (a writable report that came early), else err is its outcome (nil:
// connected; the socket's SO_ERROR, or the error of reading it).
func ConnectResult(fd int) (done bool, err error) {
	soerr, err := soError(fd)
	switch {
	case err != nil:
		return true, err
	case soerr != 0:
		return true, syscall.Errno(soerr)
	}
	if _, err := PeerAddr(fd); IsNotConn(err) {
		return false, nil
	}
	return true, nil
}

// single is the one buffer of segs when it has at most one: nil for none (an empty
// datagram). ok is false for several.
func single(segs [][]byte) (b []byte, ok bool) {
	switch len(segs) {
	case 0:
		return nil, true
	case 1:
		return segs[0], true
	}
	return nil, false
}
