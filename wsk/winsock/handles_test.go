package winsock

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// 1e5 open/close cycles of the handle table with every stale handle replayed: 100 %
// refused, even though slots are reused all the time (stricter than Windows).
func TestHandleTableStaleNeverMatches(t *testing.T) {
	tb := newHandleTable[int](tagSocket, 64)
	live := map[uint64]int{}
	var stale []uint64
	rng := rand.New(rand.NewPCG(1, 2))
	reused := map[uint32]int{}
	for i := range 100_000 {
		if len(live) < 32 && (len(live) == 0 || rng.IntN(2) == 0) {
			h, ok := tb.add(i)
			require.True(t, ok)
			live[h] = i
			reused[uint32(h)]++
			continue
		}
		for h := range live {
			v, ok := tb.remove(h)
			require.True(t, ok)
			require.Equal(t, live[h], v)
			delete(live, h)
			stale = append(stale, h)
			break
		}
	}
	refused := 0
	for _, h := range stale {
		_, ok := tb.get(h)
		_, ok2 := tb.remove(h)
		if !ok && !ok2 {
			refused++
		}
	}
	require.Equal(t, len(stale), refused, "every stale handle refused")
	require.Greater(t, len(stale), 40_000)
	maxReuse := 0
	for _, n := range reused {
		maxReuse = max(maxReuse, n)
	}
	t.Logf("%d stale handles replayed, all refused; a slot was reused up to %d times", len(stale), maxReuse)
	for h, v := range live {
		got, ok := tb.get(h)
		require.True(t, ok)
		require.Equal(t, v, got)
	}
	// Never-issued handles: another tag, a slot beyond the table, generation 0.
	for _, h := range []uint64{0, ^uint64(0), tagProvider<<56 | 1<<32, tagSocket<<56 | 1<<32 | 999, tagSocket << 56} {
		_, ok := tb.get(h)
		require.False(t, ok, "%#x", h)
	}
}

// A slot whose generation would wrap is retired, never reused.
func TestHandleTableRetiresWrappedSlot(t *testing.T) {
	tb := newHandleTable[int](tagSocket, 4)
	h, _ := tb.add(1)
	tb.slots[uint32(h)].gen = uint32(genMask)
	h = tb.encode(uint32(h), uint32(genMask))
	_, ok := tb.remove(h)
	require.True(t, ok)
	require.Empty(t, tb.free)
	h2, _ := tb.add(2)
	require.NotEqual(t, uint32(h), uint32(h2), "the retired slot is not reused")
	_, ok = tb.get(h)
	require.False(t, ok)
}

func TestHandleTableBounded(t *testing.T) {
	tb := newHandleTable[int](tagSocket, 2)
	_, ok1 := tb.add(1)
	_, ok2 := tb.add(2)
	_, ok3 := tb.add(3)
	require.True(t, ok1 && ok2)
	require.False(t, ok3)
}
