//go:build windows

package sock

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The kernel's view of a TCP connection: SIO_TCP_INFO (Windows 10 1703 and later). A
// stack without it answers the probe with an error: TCPFinished is then false and
// SendQueue errors.ErrUnsupported (STATUS_NOT_SUPPORTED, which the linger engine takes as
// "nothing more to know").

// sioTCPInfo is SIO_TCP_INFO, _WSAIORW(IOC_VENDOR, 39).
const sioTCPInfo = windows.IOC_INOUT | windows.IOC_VENDOR | 39

// tcpInfoV0 is TCP_INFO_v0, laid out as the C record (88 bytes).
type tcpInfoV0 struct {
	State             uint32 // TCPSTATE
	Mss               uint32
	ConnectionTimeMs  uint64
	TimestampsEnabled uint8
	RttUs             uint32
	MinRttUs          uint32
	BytesInFlight     uint32
	Cwnd              uint32
	SndWnd            uint32
	RcvWnd            uint32
	RcvBuf            uint32
	BytesOut          uint64
	BytesIn           uint64
	BytesReordered    uint32
	BytesRetrans      uint32
	FastRetrans       uint32
	DupAcksIn         uint32
	TimeoutEpisodes   uint32
	SynRetrans        uint8
}

// The TCPSTATE values the probes look at.
const (
	tcpStateClosed   = 0
	tcpStateFinWait1 = 5
	tcpStateClosing  = 8
	tcpStateLastAck  = 9
)

func tcpInfo(fd int) (tcpInfoV0, error) {
	var info tcpInfoV0
	version := uint32(0)
	var n uint32
	err := windows.WSAIoctl(windows.Handle(fd), sioTCPInfo, (*byte)(unsafe.Pointer(&version)), 4,
		(*byte)(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)), &n, nil, 0)
	if err == nil && n < uint32(unsafe.Offsetof(info.BytesInFlight)+4) {
		err = errors.ErrUnsupported
	}
	return info, err
}

// TCPFinished reports whether the stack has already finished the TCP connection on fd
// (state CLOSED): a linger-0 close of it sends nothing. Any error is false.
func TCPFinished(fd int) bool {
	info, err := tcpInfo(fd)
	return err == nil && info.State == tcpStateClosed
}

// SendQueue is the bytes the peer has not acknowledged (BytesInFlight), plus one for our
// FIN while it is unacknowledged (FIN_WAIT_1, CLOSING, LAST_ACK), so that 0 after
// Shutdown means "everything, FIN included, was delivered", as Linux's SIOCOUTQ.
func SendQueue(fd int) (int, error) {
	info, err := tcpInfo(fd)
	if err != nil {
		return 0, errors.ErrUnsupported
	}
	v := int(info.BytesInFlight)
	switch info.State {
	case tcpStateFinWait1, tcpStateClosing, tcpStateLastAck:
		v++
	}
	return v, nil
}
