//go:build unix || windows

package sock

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPerRequestCallsAllocateNothing: the calls the provider makes per request (one and
// several buffers each way, a peek, a read that finds nothing, a datagram out and in)
// allocate nothing, the "again" error included.
func TestPerRequestCallsAllocateNothing(t *testing.T) {
	c, s := connected(t)
	a, _ := udp(t)
	b, ba := udp(t)
	msg, two := []byte("0123456789abcdef"), [][]byte{[]byte("01234567"), []byte("89abcdef")}
	buf, half := make([]byte, 64), [][]byte{make([]byte, 8), make([]byte, 56)}
	var one [1]byte
	read := func(segs [][]byte) {
		retry(t, "read", func() bool {
			n, err := Readv(s, segs)
			if IsAgain(err) {
				return false
			}
			require.NoError(t, err)
			require.Equal(t, 16, n)
			return true
		})
	}
	allocs := testing.AllocsPerRun(200, func() {
		_, err := Writev(c, [][]byte{msg})
		require.NoError(t, err)
		read([][]byte{buf})
		_, err = Writev(c, two)
		require.NoError(t, err)
		_, err = Peek(s, one[:])
		require.True(t, err == nil || IsAgain(err))
		read(half)
		_, err = Read(s, buf)
		require.True(t, IsAgain(err))
		_, err = SendTo(a, AFInet, [][]byte{msg}, ba)
		require.NoError(t, err)
		retry(t, "recvfrom", func() bool {
			_, _, err := RecvFrom(b, buf)
			return !IsAgain(err)
		})
	})
	require.Zero(t, allocs, "allocations per round")
}
