package dispatch

// Buf is WSK_BUF: a byte slice or a chain of them (the MDL chain). Offset lies inside
// First; Length is the number of bytes described, starting at First[Offset] and running
// on into Rest. The bytes belong to the provider from the call until its IRP completes.
type Buf struct {
	First  []byte
	Rest   [][]byte
	Offset int
	Length int
}

// MakeBuf describes all of b.
func MakeBuf(b []byte) Buf { return Buf{First: b, Length: len(b)} }

// MakeBufChain describes every slice of bs, in order. No slices gives the empty Buf.
func MakeBufChain(bs ...[]byte) Buf {
	if len(bs) == 0 {
		return Buf{}
	}
	n := 0
	for _, b := range bs {
		n += len(b)
	}
	return Buf{First: bs[0], Rest: bs[1:], Length: n}
}

// Valid reports whether Offset/Length fit the chain (First may be nil only if Length == 0).
func (b *Buf) Valid() bool {
	if b == nil || b.Offset < 0 || b.Length < 0 || b.Offset > len(b.First) {
		return false
	}
	if b.First == nil {
		return b.Length == 0
	}
	avail := len(b.First) - b.Offset
	for _, r := range b.Rest {
		if avail >= b.Length {
			return true
		}
		avail += len(r)
	}
	return avail >= b.Length
}

// Segments calls yield for each non-empty piece of the described bytes, in order, until
// yield returns false. An invalid Buf yields nothing.
func (b *Buf) Segments(yield func([]byte) bool) {
	if !b.Valid() {
		return
	}
	left := b.Length
	piece := b.First[b.Offset:]
	for i := 0; left > 0; i++ {
		if i > 0 {
			piece = b.Rest[i-1]
		}
		if len(piece) > left {
			piece = piece[:left]
		}
		if len(piece) == 0 {
			continue
		}
		left -= len(piece)
		if !yield(piece) {
			return
		}
	}
}

// CopyFrom copies p into the described bytes starting at byte off; returns bytes copied
// (0 for an invalid Buf or an off outside [0, Length]).
func (b *Buf) CopyFrom(off int, p []byte) int {
	n := 0
	b.walk(off, func(seg []byte) bool {
		c := copy(seg, p[n:])
		n += c
		return n < len(p)
	})
	return n
}

// CopyTo copies the described bytes starting at byte off into p; returns bytes copied.
func (b *Buf) CopyTo(off int, p []byte) int {
	n := 0
	b.walk(off, func(seg []byte) bool {
		c := copy(p[n:], seg)
		n += c
		return n < len(p)
	})
	return n
}

// walk visits the described bytes from byte off on.
func (b *Buf) walk(off int, yield func([]byte) bool) {
	if off < 0 || b == nil || off > b.Length {
		return
	}
	b.Segments(func(seg []byte) bool {
		if off >= len(seg) {
			off -= len(seg)
			return true
		}
		seg, off = seg[off:], 0
		return yield(seg)
	})
}

// BufList is WSK_BUF_LIST (one datagram per element, for SendMessages).
type BufList struct {
	Next   *BufList
	Buffer Buf
}
