package netconn_test

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/wsk/netconn"
)

// pair returns a connected pair: a dialled by dial, b accepted from listen's listener;
// both (and the listener) are closed when the test ends.
func pair(t testing.TB, listen listenFunc, dial dialFunc) (a, b net.Conn) {
	t.Helper()
	c1, c2, stop, err := makePipe(listen, dial)()
	require.NoError(t, err)
	t.Cleanup(stop)
	return c1, c2
}

// gowskPair is a gowsk dial and a gowsk accept.
func gowskPair(t testing.TB) (a, b *netconn.TCPConn) {
	c1, c2 := pair(t, netconn.Listen, netconn.Dial)
	return c1.(*netconn.TCPConn), c2.(*netconn.TCPConn)
}

// gowskNetPair is a gowsk accepted conn (a) and its stdlib peer (b): the peer sees what
// Linux reports.
func gowskNetPair(t testing.TB) (a *netconn.TCPConn, b net.Conn) {
	c1, c2 := pair(t, netconn.Listen, net.Dial)
	return c2.(*netconn.TCPConn), c1
}

func newClientDispatch() *dispatch.ClientDispatch {
	return &dispatch.ClientDispatch{Version: dispatch.MakeVersion(1, 0)}
}
