package dispatch

import "net/netip"

// DataIndication is WSK_DATA_INDICATION, one element of the list a provider passes to
// WskReceiveEvent.
//
// Ownership: the list belongs to the provider. Returning irp.Success or
// irp.DataNotAccepted from the receive event gives it back at once: the application must
// not keep any pointer into it. Returning irp.Pending retains it: the application owns the
// whole list (and its buffers) until it hands the first element back through the socket
// table's Release member, which may happen on any goroutine, exactly once per retained list.
type DataIndication struct {
	Next   *DataIndication
	Buffer Buf
}

// DatagramIndication is WSK_DATAGRAM_INDICATION. Ownership is as for DataIndication, with
// the datagram table's Release (WskRelease of a datagram socket).
type DatagramIndication struct {
	Next          *DatagramIndication
	Buffer        Buf
	ControlInfo   []byte
	RemoteAddress netip.AddrPort
}

// InspectID is WSK_INSPECT_ID. Its identity is its contents: copy it by value.
type InspectID struct {
	Key          uintptr
	SerialNumber uint32
}

// AddrInfo is ADDRINFOEXW, reduced to what a Go resolver gives.
type AddrInfo struct {
	Flags, Family, SocketType, Protocol int
	CanonName                           string
	Addr                                netip.AddrPort
	Next                                *AddrInfo
}
