package dispatch

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func collect(b Buf) []string {
	var out []string
	b.Segments(func(p []byte) bool { out = append(out, string(p)); return true })
	return out
}

func TestBufValid(t *testing.T) {
	require.True(t, (&Buf{}).Valid(), "empty nil buf")
	require.False(t, (*Buf)(nil).Valid())
	require.False(t, (&Buf{Length: 1}).Valid(), "nil First with Length")
	require.False(t, (&Buf{First: []byte("ab"), Offset: 3}).Valid(), "offset past First")
	require.True(t, (&Buf{First: []byte("ab"), Offset: 2}).Valid(), "offset at end, length 0")
	require.False(t, (&Buf{First: []byte("ab"), Offset: -1}).Valid())
	require.False(t, (&Buf{First: []byte("ab"), Length: -1}).Valid())
	require.False(t, (&Buf{First: []byte("ab"), Length: 3}).Valid())
	b := MakeBufChain([]byte("ab"), nil, []byte("cde"))
	require.True(t, b.Valid())
	b.Length++
	require.False(t, b.Valid())
}

func TestBufSegments(t *testing.T) {
	b := MakeBufChain([]byte("abc"), []byte{}, []byte("de"), []byte("fgh"))
	require.Equal(t, 8, b.Length)
	b.Offset, b.Length = 1, 5
	require.Equal(t, []string{"bc", "de", "f"}, collect(b))
	// Early stop.
	n := 0
	b.Segments(func([]byte) bool { n++; return false })
	require.Equal(t, 1, n)
	require.Empty(t, collect(Buf{}))
	require.Empty(t, collect(MakeBufChain()))
	require.Equal(t, []string{"xy"}, collect(MakeBuf([]byte("xy"))))
}

func TestBufCopy(t *testing.T) {
	a, c := make([]byte, 3), make([]byte, 3)
	b := MakeBufChain(a, c)
	b.Offset, b.Length = 1, 4 // a[1:3], c[0:2]
	require.Equal(t, 3, b.CopyFrom(1, []byte("XYZW")))
	require.Equal(t, []byte{0, 0, 'X'}, a)
	require.Equal(t, []byte{'Y', 'Z', 0}, c)
	out := make([]byte, 10)
	require.Equal(t, 4, b.CopyTo(0, out))
	require.Equal(t, "\x00XYZ", string(out[:4]))
	require.Equal(t, 0, b.CopyTo(4, out), "off == Length")
	require.Equal(t, 0, b.CopyTo(5, out), "off past Length")
	require.Equal(t, 0, b.CopyTo(-1, out))
	require.Equal(t, 0, b.CopyFrom(0, nil))
	require.Equal(t, 2, b.CopyTo(2, out[:2]))
	require.Equal(t, "YZ", string(out[:2]))
	bad := Buf{Length: 3}
	require.Equal(t, 0, bad.CopyTo(0, out))
}
