package winsock

import (
	"encoding/binary"

	"github.com/gowsk/gowsk/irp"
)

// Setsockopt is setsockopt. SO_LINGER (a 4-byte Linger, Linger.Bytes) and
// SO_DONTLINGER (an int: nonzero turns lingering off; zero turns it on with the timeout
// SO_LINGER set last) belong to the switch, and stream sockets only
// (WSAENOPROTOOPT otherwise); the others (SO_RCVBUF, SO_SNDBUF, SO_KEEPALIVE,
// TCP_NODELAY) go to the provider. A value shorter than 4 bytes is WSAEFAULT, an
// unknown level WSAEINVAL, an unknown option WSAENOPROTOOPT, a read-only one
// (SO_ERROR, SO_TYPE) WSAEINVAL.
func (t *Thread) Setsockopt(s Socket, level, name int32, val []byte) error {
	const op = "setsockopt"
	e, code := t.call(s)
	if code != 0 {
		return wsaErr(op, code)
	}
	defer t.done(e)
	if level == SOLSocket && (name == SOLinger || name == SODontLinger) {
		return wsaErr(op, e.s.setLinger(name, val))
	}
	if level == SOLSocket && name == SOType {
		return wsaErr(op, irp.WSAEINVAL)
	}
	return wsaErr(op, e.answer(t.w.top.SetSockOpt(e.s.ph, level, name, val)))
}

func (s *sock) setLinger(name int32, val []byte) WSAError {
	if s.info.SocketType != SockStream {
		return WSAENOPROTOOPT
	}
	if len(val) < 4 {
		return WSAEFAULT
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == SOLinger {
		s.linger = Linger{OnOff: binary.LittleEndian.Uint16(val), Linger: binary.LittleEndian.Uint16(val[2:])}
		s.lastLinger = s.linger.Linger
		return 0
	}
	if binary.LittleEndian.Uint32(val) != 0 {
		s.linger.OnOff = 0
	} else {
		s.linger.OnOff, s.linger.Linger = 1, s.lastLinger
	}
	return 0
}

// Getsockopt is getsockopt: it writes the value into val and returns its length.
// SO_LINGER gives a Linger (4 bytes, ParseLinger), SO_DONTLINGER an int; a val shorter
// than the value is WSAEFAULT. Levels and options as Setsockopt.
func (t *Thread) Getsockopt(s Socket, level, name int32, val []byte) (int, error) {
	const op = "getsockopt"
	e, code := t.call(s)
	if code != 0 {
		return 0, wsaErr(op, code)
	}
	defer t.done(e)
	if level == SOLSocket && (name == SOLinger || name == SODontLinger) {
		if e.s.info.SocketType != SockStream {
			return 0, wsaErr(op, WSAENOPROTOOPT)
		}
		if len(val) < 4 {
			return 0, wsaErr(op, WSAEFAULT)
		}
		e.s.mu.Lock()
		lg := e.s.linger
		e.s.mu.Unlock()
		if name == SOLinger {
			copy(val, lg.Bytes())
		} else {
			v := int32(0)
			if lg.OnOff == 0 {
				v = 1
			}
			copy(val, IntOpt(v))
		}
		return 4, nil
	}
	n, code := t.w.top.GetSockOpt(e.s.ph, level, name, val)
	return n, wsaErr(op, e.answer(code))
}

// ParseLinger decodes SO_LINGER output.
func ParseLinger(b []byte) (Linger, bool) {
	if len(b) < 4 {
		return Linger{}, false
	}
	return Linger{OnOff: binary.LittleEndian.Uint16(b), Linger: binary.LittleEndian.Uint16(b[2:])}, true
}

// Ioctlsocket is ioctlsocket: FIONBIO (*arg nonzero: nonblocking) and FIONREAD (*arg
// gets the bytes waiting). A nil arg is WSAEFAULT, another command WSAEINVAL. FIONBIO
// cannot turn blocking mode back on while WSAEventSelect is active (WSAEINVAL).
func (t *Thread) Ioctlsocket(s Socket, cmd uint32, arg *uint32) error {
	const op = "ioctlsocket"
	e, code := t.call(s)
	if code != 0 {
		return wsaErr(op, code)
	}
	defer t.done(e)
	if arg == nil {
		return wsaErr(op, WSAEFAULT)
	}
	var b [4]byte
	switch cmd {
	case FIONBIO:
		binary.LittleEndian.PutUint32(b[:], *arg)
		if _, code := t.w.top.Ioctl(e.s.ph, FIONBIO, b[:], nil, nil); code != 0 {
			return wsaErr(op, e.answer(code))
		}
		e.s.mu.Lock()
		e.s.nonblocking = *arg != 0
		e.s.mu.Unlock()
		return nil
	case FIONREAD:
		if _, code := t.w.top.Ioctl(e.s.ph, FIONREAD, nil, b[:], nil); code != 0 {
			return wsaErr(op, e.answer(code))
		}
		*arg = binary.LittleEndian.Uint32(b[:])
		return nil
	}
	return wsaErr(op, irp.WSAEINVAL)
}
