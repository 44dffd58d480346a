//go:build unix || windows

package sock

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
)

// TestOptions: the integer options read back what was set, buffer sizes as Winsock
// counts them; the keep-alive timing where the OS has it, STATUS_NOT_SUPPORTED where
// it does not.
func TestOptions(t *testing.T) {
	c, _ := connected(t)
	for _, o := range []Option{OptNoDelay, OptKeepAlive} {
		require.True(t, Supported(o))
		require.NoError(t, SetInt(c, o, 1))
		v, err := GetInt(c, o)
		require.NoError(t, err)
		require.NotZero(t, v, "option %d set", o)
		require.NoError(t, SetInt(c, o, 0))
		v, err = GetInt(c, o)
		require.NoError(t, err)
		require.Zero(t, v, "option %d cleared", o)
	}
	require.NoError(t, SetInt(c, OptSndBuf, 65536))
	v, err := GetInt(c, OptSndBuf)
	require.NoError(t, err)
	require.Equal(t, 65536, v, "SO_SNDBUF reads back as set")
	v, err = GetInt(c, OptError)
	require.NoError(t, err)
	require.Zero(t, v)
	for _, o := range []Option{OptKeepIdle, OptKeepIntvl} {
		if !Supported(o) {
			continue
		}
		err := SetInt(c, o, 30)
		if errors.Is(err, errors.ErrUnsupported) {
			require.Equal(t, irp.NotSupported, Status(err))
			continue
		}
		require.NoError(t, err)
		v, err := GetInt(c, o)
		require.NoError(t, err)
		require.Equal(t, 30, v, "option %d", o)
	}
	require.NoError(t, Alive(c))
}

// TestQueues: the receive queue counts what waits; the send queue drains to 0 once the
// peer acknowledged everything, FIN included (or the OS has no probe:
// STATUS_NOT_SUPPORTED); TCPFinished is false on a live connection.
func TestQueues(t *testing.T) {
	c, s := connected(t)
	_, err := Writev(c, [][]byte{[]byte("0123456789")})
	require.NoError(t, err)
	retry(t, "receive queue", func() bool {
		n, err := ReceiveQueue(s)
		require.NoError(t, err)
		return n == 10
	})
	require.False(t, TCPFinished(c))
	require.NoError(t, Shutdown(c))
	retry(t, "send queue", func() bool {
		n, err := SendQueue(c)
		if err != nil {
			require.Equal(t, irp.NotSupported, Status(err), "send queue: %v", err)
			return true
		}
		return n == 0
	})
	v, err := IdealSendBacklog(c)
	require.NoError(t, err)
	require.Positive(t, v)
}

// TestTCPFinished: a connection reset by its peer is finished (where the OS can tell:
// the probe never claims more than it knows, so false is allowed there).
func TestTCPFinished(t *testing.T) {
	c, s := connected(t)
	SetLingerZero(s)
	require.NoError(t, Close(s))
	var b [1]byte
	_, err := readSome(t, c, b[:])
	require.Equal(t, irp.ConnectionReset, Status(err))
	t.Logf("TCPFinished after a reset: %v", TCPFinished(c))
}
