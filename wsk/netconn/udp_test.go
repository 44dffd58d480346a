package netconn_test

import (
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/wsk/netconn"
)

// TestPacketConn: ReadFrom/WriteTo between a gowsk PacketConn and a stdlib one, both
// ways, a read deadline, Close unblocking a pending ReadFrom, and a dialled UDP conn.
func TestPacketConn(t *testing.T) {
	pc, err := netconn.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer pc.Close()
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer peer.Close()

	_, err = pc.WriteTo([]byte("ping"), peer.LocalAddr())
	require.NoError(t, err)
	buf := make([]byte, 64)
	require.NoError(t, peer.SetReadDeadline(time.Now().Add(10*time.Second)))
	n, from, err := peer.ReadFrom(buf)
	require.NoError(t, err)
	require.Equal(t, "ping", string(buf[:n]))
	require.Equal(t, pc.LocalAddr().String(), from.String())

	_, err = peer.WriteTo([]byte("pong"), pc.LocalAddr())
	require.NoError(t, err)
	require.NoError(t, pc.SetReadDeadline(time.Now().Add(10*time.Second)))
	n, from, err = pc.ReadFrom(buf)
	require.NoError(t, err)
	require.Equal(t, "pong", string(buf[:n]))
	require.Equal(t, peer.LocalAddr().String(), from.String())
	_, ok := from.(*net.UDPAddr)
	require.True(t, ok)

	require.NoError(t, pc.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
	_, _, err = pc.ReadFrom(buf)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	require.True(t, err.(net.Error).Timeout())
	require.NoError(t, pc.SetReadDeadline(time.Time{}))

	// A dialled conn: Write goes to the fixed peer, Read comes from it.
	c, err := netconn.Dial("udp4", peer.LocalAddr().String())
	require.NoError(t, err)
	_, err = c.Write([]byte("dialled"))
	require.NoError(t, err)
	n, from, err = peer.ReadFrom(buf)
	require.NoError(t, err)
	require.Equal(t, "dialled", string(buf[:n]))
	_, err = peer.WriteTo([]byte("back"), from)
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	n, err = c.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "back", string(buf[:n]))
	require.Equal(t, peer.LocalAddr().String(), c.RemoteAddr().String())
	require.NoError(t, c.Close())

	errc := make(chan error, 1)
	go func() {
		_, _, err := pc.ReadFrom(buf)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, pc.Close())
	require.ErrorIs(t, <-errc, net.ErrClosed)
	_, err = pc.WriteTo([]byte("x"), peer.LocalAddr())
	require.ErrorIs(t, err, net.ErrClosed)
}
