package wsk

// SIOQuerySendQueue is a gowsk extension IOCTL (no WSK IOCTL has this meaning), used
// with ControlSocket(dispatch.Ioctl, SIOQuerySendQueue, 0, nil, out, &n, irp) on a
// connected socket: out gets, as an 8-byte little-endian SIZE_T, the send bytes not yet
// acknowledged by the peer. That is the bytes of send IRPs the provider still holds
// (not yet written to the kernel) plus the kernel's send queue (unsent and sent but
// unacknowledged, SIOCOUTQ; after a graceful disconnect it also counts the FIN until
// the peer acknowledges it). Zero after a graceful disconnect completed therefore means
// "everything, FIN included, was delivered". Winsock's SO_LINGER{1,n} close waits for
// it (package wsk/winsock). It needs an IRP, like the backlog IOCTLs; a short out gives
// STATUS_BUFFER_OVERFLOW with the size needed.
const SIOQuerySendQueue uint32 = 0x40000000 | 0x18000000 | 0x0001 // IOC_OUT | IOC_VENDOR | 1
