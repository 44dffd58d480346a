package netconn_test

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/wsk/netconn"
)

func TestSmokeEcho(t *testing.T) {
	ln, err := netconn.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	c, err := netconn.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	_, err = c.Write([]byte("hello"))
	require.NoError(t, err)
	b := make([]byte, 5)
	_, err = io.ReadFull(c, b)
	require.NoError(t, err)
	require.Equal(t, "hello", string(b))
	require.NoError(t, c.(*netconn.TCPConn).CloseWrite())
	n, err := c.Read(b)
	require.Equal(t, 0, n)
	require.Equal(t, io.EOF, err)
	require.NoError(t, c.Close())
}
