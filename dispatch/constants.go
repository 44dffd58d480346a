package dispatch

// Constants of wsk.h (SPEC.md §1.3). The numeric values of request and callback flags
// overlap across groups on purpose: the function decides what a bit means.

// SocketFlags selects a socket's category in WskSocket (WSK_FLAG_*_SOCKET).
type SocketFlags uint32

const (
	BasicSocket      SocketFlags = 0x00
	ListenSocket     SocketFlags = 0x01
	ConnectionSocket SocketFlags = 0x02
	DatagramSocket   SocketFlags = 0x04
	StreamSocket     SocketFlags = 0x08
)

// Flags are the request flags an application passes, and the callback flags a provider
// passes to event callbacks.
type Flags uint32

// Callback flags (passed to the application).
const (
	FlagAbortive        Flags = 0x01 // WSK_FLAG_ABORTIVE (disconnect event; also a Disconnect request flag)
	FlagReleaseASAP     Flags = 0x02 // WSK_FLAG_RELEASE_ASAP
	FlagEntireMessage   Flags = 0x04 // WSK_FLAG_ENTIRE_MESSAGE
	FlagAtDispatchLevel Flags = 0x08 // WSK_FLAG_AT_DISPATCH_LEVEL
)

// Request flags (passed by the application).
const (
	FlagOOB     Flags = 0x01 // WSK_FLAG_OOB (send)
	FlagNoDelay Flags = 0x02 // WSK_FLAG_NODELAY (send)
	FlagWaitAll Flags = 0x02 // WSK_FLAG_WAITALL (receive)
	FlagDrain   Flags = 0x04 // WSK_FLAG_DRAIN (receive)
)

// EventMask values for SO_WSK_EVENT_CALLBACK (WSK_EVENT_*).
type EventMask uint32

const (
	EventSendBacklog EventMask = 0x00000010
	EventReceive     EventMask = 0x00000040
	EventDisconnect  EventMask = 0x00000080
	EventReceiveFrom EventMask = 0x00000100
	EventAccept      EventMask = 0x00000200
	EventDisable     EventMask = 0x80000000
)

// Socket option levels and names used with ControlSocket.
const (
	SOLSocket           = 0xFFFF // SOL_SOCKET as Winsock spells it
	WskSOBase           = 0x4000 // WSK_SO_BASE
	SOWskSecurity       = 0x4001 // SO_WSK_SECURITY
	SOWskEventCallback  = 0x4002 // SO_WSK_EVENT_CALLBACK
	SOConditionalAccept = 0x3002 // SO_CONDITIONAL_ACCEPT (Winsock value)
)

// ControlType is WSK_CONTROL_SOCKET_TYPE.
type ControlType uint32

const (
	SetOption ControlType = 0 // WskSetOption
	GetOption ControlType = 1 // WskGetOption
	Ioctl     ControlType = 2 // WskIoctl
)

// Socket IOCTLs of the IOC_WSK group: _WSAIO(IOC_WSK, n) etc., with the Winsock encoding
// IOC_VENDOR-style: IOC_IN 0x80000000, IOC_OUT 0x40000000, IOC_WSK 0x0F000000.
const (
	iocIn  = 0x80000000
	iocOut = 0x40000000
	iocWSK = 0x0F000000

	SIOWskSetRemoteAddress      = iocIn | iocWSK | 1
	SIOWskRegisterExtension     = iocIn | iocOut | iocWSK | 2
	SIOWskQueryIdealSendBacklog = iocOut | iocWSK | 3
	SIOWskQueryReceiveBacklog   = iocOut | iocWSK | 4
	SIOWskQueryInspectID        = iocOut | iocWSK | 5
	SIOWskSetSendToAddress      = iocIn | iocWSK | 6
	SIOWskSetTCPSilentMode      = iocWSK | 7
)

// ClientControl is a WskControlClient code.
type ClientControl uint32

const (
	TransportListQuery      ClientControl = 2
	TransportListChange     ClientControl = 3
	CacheSD                 ClientControl = 4
	ReleaseSD               ClientControl = 5
	TDIDeviceNameMapping    ClientControl = 6
	SetStaticEventCallbacks ClientControl = 7
	TDIBehavior             ClientControl = 8
	TDIBehaviorBypassTDI                  = 1
)

// InspectAction is WSK_INSPECT_ACTION.
type InspectAction uint32

const (
	InspectReject InspectAction = 0
	InspectAccept InspectAction = 1
	InspectPend   InspectAction = 2
)

// Waits for CaptureProviderNPI, in milliseconds.
const (
	NoWait       uint32 = 0
	InfiniteWait uint32 = 0xFFFFFFFF
)

// MakeVersion is MAKE_WSK_VERSION: major in the high byte, minor in the low byte.
func MakeVersion(major, minor uint8) uint16 { return uint16(major)<<8 | uint16(minor) }

// VersionMajor and VersionMinor split a WSK version.
func VersionMajor(v uint16) uint8 { return uint8(v >> 8) }
func VersionMinor(v uint16) uint8 { return uint8(v) }

// NPIWskInterfaceID is NPI_WSK_INTERFACE_ID, {2227E803-8D8B-11D4-ABAD-009027719E09}.
var NPIWskInterfaceID = [16]byte{0x03, 0xE8, 0x27, 0x22, 0x8B, 0x8D, 0xD4, 0x11, 0xAB, 0xAD, 0x00, 0x90, 0x27, 0x71, 0x9E, 0x09}

// NameInfoFlags are the NI_* flags of WskGetNameInfo.
type NameInfoFlags uint32

const (
	NINoFQDN      NameInfoFlags = 0x01
	NINumericHost NameInfoFlags = 0x02
	NINameReqd    NameInfoFlags = 0x04
	NINumericServ NameInfoFlags = 0x08
	NIDgram       NameInfoFlags = 0x10
)
