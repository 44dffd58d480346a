package dispatch

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

// fieldNames flattens a table's exported fields, the embedded BasicDispatch expanded in
// place. Unexported fields (the layer depth) are bookkeeping, not members.
func fieldNames(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		if f.Anonymous {
			require.Equal(nil, reflect.TypeFor[BasicDispatch](), f.Type)
			out = append(out, fieldNames(f.Type)...)
			continue
		}
		out = append(out, f.Name)
	}
	return out
}

// TestTableOrder checks invariant 7: every category's table has exactly the members of
// SPEC.md §2.4 in header order, the first two being ControlSocket and CloseSocket reached
// through the embedded BasicDispatch (which is field 0).
func TestTableOrder(t *testing.T) {
	basic := []string{"ControlSocket", "CloseSocket"}
	want := map[reflect.Type][]string{
		reflect.TypeFor[BasicDispatch]():  basic,
		reflect.TypeFor[ListenDispatch](): append(append([]string{}, basic...), "Bind", "Accept", "InspectComplete", "GetLocalAddress"),
		reflect.TypeFor[DatagramDispatch](): append(append([]string{}, basic...), "Bind", "SendTo", "ReceiveFrom",
			"Release", "GetLocalAddress", "SendMessages"),
		reflect.TypeFor[ConnectionDispatch](): append(append([]string{}, basic...), "Bind", "Connect", "GetLocalAddress",
			"GetRemoteAddress", "Send", "Receive", "Disconnect", "Release", "ConnectEx", "SendEx", "ReceiveEx"),
		reflect.TypeFor[StreamDispatch](): append(append([]string{}, basic...), "Bind", "Accept", "Connect", "Listen",
			"Send", "Receive", "Disconnect", "Release", "GetLocalAddress", "GetRemoteAddress", "ConnectEx", "SendEx", "ReceiveEx"),
	}
	for typ, names := range want {
		require.Equal(t, names, fieldNames(typ), typ.String())
		if typ != reflect.TypeFor[BasicDispatch]() {
			f0 := typ.Field(0)
			require.True(t, f0.Anonymous, "%s: BasicDispatch must be embedded first", typ)
			require.Equal(t, uintptr(0), f0.Offset)
		}
	}
}

// TestCategoryFlags checks invariant 8's mapping 0/1/2/4/8 and that sockets report the
// category of their inner table with the matching guarded view.
func TestCategoryFlags(t *testing.T) {
	require.Equal(t, SocketFlags(0), BasicSocket)
	require.Equal(t, SocketFlags(1), ListenSocket)
	require.Equal(t, SocketFlags(2), ConnectionSocket)
	require.Equal(t, SocketFlags(4), DatagramSocket)
	require.Equal(t, SocketFlags(8), StreamSocket)

	cases := []struct {
		inner any
		cat   SocketFlags
	}{
		{&BasicDispatch{}, BasicSocket},
		{&ListenDispatch{}, ListenSocket},
		{&ConnectionDispatch{}, ConnectionSocket},
		{&DatagramDispatch{}, DatagramSocket},
		{&StreamDispatch{}, StreamSocket},
	}
	for _, c := range cases {
		s := NewSocket(c.inner, nil)
		require.Equal(t, c.cat, s.Category())
		require.NotNil(t, s.Basic())
		require.NotSame(t, c.inner, s.Dispatch, "Dispatch must be the guard, not the provider table")
		require.Equal(t, c.cat == ListenSocket, s.Listen() != nil)
		require.Equal(t, c.cat == ConnectionSocket, s.Connection() != nil)
		require.Equal(t, c.cat == DatagramSocket, s.Datagram() != nil)
		require.Equal(t, c.cat == StreamSocket, s.Stream() != nil)
		require.Equal(t, 1, s.StackSize())
		require.False(t, s.Closing())
	}
}

func TestMemberString(t *testing.T) {
	require.Equal(t, "ControlSocket", MemberControlSocket.String())
	require.Equal(t, "ReceiveEx", MemberReceiveEx.String())
	require.Equal(t, "Member(19)", NumMembers.String())
}

func TestEventCallbackControl(t *testing.T) {
	c := EventCallbackControl{NpiID: NPIWskInterfaceID, EventMask: EventReceive | EventDisconnect}
	b := c.Marshal()
	require.Len(t, b, 20)
	require.Equal(t, []byte{0xC0, 0, 0, 0}, b[16:])
	got, ok := ParseEventCallbackControl(b)
	require.True(t, ok)
	require.Equal(t, c, got)
	_, ok = ParseEventCallbackControl(b[:19])
	require.False(t, ok)
	_, ok = ParseEventCallbackControl(append(b, 0))
	require.False(t, ok)
}
