package dispatch

import "strconv"

// Member names a dispatch-table member, for layers and traces.
type Member uint8

const (
	MemberControlSocket Member = iota
	MemberCloseSocket
	MemberBind
	MemberListen
	MemberAccept
	MemberInspectComplete
	MemberConnect
	MemberConnectEx
	MemberGetLocalAddress
	MemberGetRemoteAddress
	MemberSend
	MemberReceive
	MemberDisconnect
	MemberRelease
	MemberSendTo
	MemberReceiveFrom
	MemberSendMessages
	MemberSendEx
	MemberReceiveEx
	NumMembers
)

var memberNames = [NumMembers]string{
	"ControlSocket", "CloseSocket", "Bind", "Listen", "Accept", "InspectComplete",
	"Connect", "ConnectEx", "GetLocalAddress", "GetRemoteAddress", "Send", "Receive",
	"Disconnect", "Release", "SendTo", "ReceiveFrom", "SendMessages", "SendEx", "ReceiveEx",
}

// String is the WSK function name without its "Wsk" prefix, or "Member(n)".
func (m Member) String() string {
	if m < NumMembers {
		return memberNames[m]
	}
	return "Member(" + strconv.Itoa(int(m)) + ")"
}
