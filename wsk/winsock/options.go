package winsock

import (
	"encoding/binary"
	"net/netip"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
)

// Option levels and names (the Winsock values).
const (
	SOLSocket       int32 = 0xFFFF
	SOLinger        int32 = 0x0080
	SODontLinger    int32 = ^SOLinger // ~SO_LINGER
	SOKeepAlive     int32 = 0x0008
	SOSndBuf        int32 = 0x1001
	SORcvBuf        int32 = 0x1002
	SOError         int32 = 0x1007
	SOType          int32 = 0x1008
	IPProtoTCPLevel int32 = IPProtoTCP
	TCPNoDelay      int32 = 0x0001
)

// ioctlsocket / WSAIoctl codes.
const (
	FIONBIO  uint32 = 0x8004667E
	FIONREAD uint32 = 0x4004667F
	// SIOTakeConnection is a gowsk extension between the switch and the base provider:
	// the provider hands its wsk connection (obj gets the *dispatch.Socket) to the
	// switch's graceful close; its WSPCloseSocket then leaves the connection open. A
	// layered provider passes it down like any IOCTL it does not know.
	SIOTakeConnection uint32 = 0x58000010
	// SIOQuerySendQueue reads the send bytes not yet acknowledged (8-byte out), as
	// wsk.SIOQuerySendQueue: the switch's nonblocking {1,n} closesocket tests it.
	SIOQuerySendQueue uint32 = wsk.SIOQuerySendQueue
)

// Linger is the linger structure: two 16-bit fields on Windows, seconds.
type Linger struct {
	OnOff  uint16
	Linger uint16
}

// Bytes encodes l as setsockopt input (4 bytes, little-endian u_short pair).
func (l Linger) Bytes() []byte {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint16(b, l.OnOff)
	binary.LittleEndian.PutUint16(b[2:], l.Linger)
	return b
}

// IntOpt encodes an int option value (4 bytes).
func IntOpt(v int32) []byte {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, uint32(v))
	return b
}

// wskOption maps a Winsock option to wsk's ControlSocket numbers.
func wskOption(level, name int32) (lvl, code uint32, settable, ok bool) {
	switch {
	case level == SOLSocket && name == SOSndBuf:
		return dispatch.SOLSocket, wsk.SOSndBuf, true, true
	case level == SOLSocket && name == SORcvBuf:
		return dispatch.SOLSocket, wsk.SORcvBuf, true, true
	case level == SOLSocket && name == SOKeepAlive:
		return dispatch.SOLSocket, wsk.SOKeepAlive, true, true
	case level == SOLSocket && name == SOError:
		return dispatch.SOLSocket, wsk.SOError, false, true
	case level == IPProtoTCP && name == TCPNoDelay:
		return wsk.IPProtoTCP, wsk.TCPNoDelay, true, true
	}
	return 0, 0, false, false
}

func knownLevel(level int32) bool { return level == SOLSocket || level == IPProtoTCP }

func (b *base) getSockOpt(h Socket, level, name int32, val []byte) (int, WSAError) {
	s, code := b.sockOf(h)
	if code != 0 {
		return 0, code
	}
	switch {
	case !knownLevel(level):
		return 0, irp.WSAEINVAL
	case len(val) < 4:
		return 0, WSAEFAULT
	case level == SOLSocket && name == SOType:
		binary.LittleEndian.PutUint32(val, uint32(s.sotype))
		return 4, 0
	case level == SOLSocket && name == SOError:
		s.mu.Lock()
		e := s.soError
		s.soError = 0 // read once, as the kernel's
		if e == 0 {
			e = s.sticky
		}
		s.mu.Unlock()
		binary.LittleEndian.PutUint32(val, uint32(e))
		return 4, 0
	case level == IPProtoTCP && s.sotype != SockStream:
		return 0, WSAENOPROTOOPT
	}
	lvl, c, _, ok := wskOption(level, name)
	if !ok {
		return 0, WSAENOPROTOOPT
	}
	var n int
	res := s.call(func(i *irp.IRP) irp.Status {
		return s.ws.Basic().ControlSocket(s.ws, dispatch.GetOption, c, lvl, nil, val[:4], &n, i)
	})
	if res.Status != irp.Success {
		return 0, statusCode(res.Status)
	}
	return 4, 0
}

func (b *base) setSockOpt(h Socket, level, name int32, val []byte) WSAError {
	s, code := b.sockOf(h)
	if code != 0 {
		return code
	}
	switch {
	case !knownLevel(level):
		return irp.WSAEINVAL
	case len(val) < 4:
		return WSAEFAULT
	case level == IPProtoTCP && s.sotype != SockStream:
		return WSAENOPROTOOPT
	}
	lvl, c, settable, ok := wskOption(level, name)
	if !ok {
		return WSAENOPROTOOPT
	}
	if !settable {
		return irp.WSAEINVAL
	}
	res := s.call(func(i *irp.IRP) irp.Status {
		return s.ws.Basic().ControlSocket(s.ws, dispatch.SetOption, c, lvl, val[:4], nil, nil, i)
	})
	return statusCode(res.Status)
}

func (b *base) ioctl(h Socket, code uint32, in, out []byte, obj *any) (int, WSAError) {
	s, c := b.sockOf(h)
	if c != 0 {
		return 0, c
	}
	switch code {
	case FIONBIO:
		if len(in) < 4 {
			return 0, WSAEFAULT
		}
		on := binary.LittleEndian.Uint32(in) != 0
		s.mu.Lock()
		defer s.mu.Unlock()
		if !on && s.ev.mask != 0 {
			return 0, irp.WSAEINVAL // WSAEventSelect keeps the socket nonblocking
		}
		s.nonblocking = on
		return 0, 0
	case FIONREAD:
		if len(out) < 4 {
			return 0, WSAEFAULT
		}
		n, c := s.receiveBacklog()
		if c != 0 {
			n = 0
		}
		binary.LittleEndian.PutUint32(out, uint32(n))
		return 4, 0
	case SIOQuerySendQueue:
		if len(out) < 8 {
			return 0, WSAEFAULT
		}
		var n int
		res := s.call(func(i *irp.IRP) irp.Status {
			return s.ws.Basic().ControlSocket(s.ws, dispatch.Ioctl, wsk.SIOQuerySendQueue, 0, nil, out[:8], &n, i)
		})
		if res.Status != irp.Success {
			return 0, statusCode(res.Status)
		}
		return 8, 0
	case SIOTakeConnection:
		if obj == nil {
			return 0, WSAEFAULT
		}
		return 0, s.takeConnection(obj)
	}
	return 0, irp.WSAEINVAL
}

// receiveBacklog is the bytes waiting to be received (connected stream sockets; 0 for
// the others, which wsk does not report).
func (s *baseSock) receiveBacklog() (int, WSAError) {
	s.mu.Lock()
	conn := s.st.has(bConnected) && s.sotype == SockStream
	s.mu.Unlock()
	if !conn {
		return 0, 0
	}
	var out [8]byte
	var n int
	res := s.call(func(i *irp.IRP) irp.Status {
		return s.ws.Basic().ControlSocket(s.ws, dispatch.Ioctl, dispatch.SIOWskQueryReceiveBacklog, 0, nil, out[:], &n, i)
	})
	if res.Status != irp.Success {
		return 0, statusCode(res.Status)
	}
	return int(binary.LittleEndian.Uint64(out[:])), 0
}

func sockaddrOf(a netip.AddrPort) []byte { return wsk.SockaddrBytes(a) }
