package winsock

import "sync"

// A handle is 64 bits: a tag that says which table issued it, the slot's generation
// and the slot index.
//
//	bits 56-63  tag (tagSocket for SOCKETs the switch hands out, tagProvider for
//	            WPUCreateSocketHandle handles)
//	bits 32-55  generation of the slot when the handle was issued (1..2^24-1)
//	bits  0-31  slot index
//
// A slot's generation moves on when its handle is closed, so a stale handle never
// matches again, even once the slot holds a new socket; a slot whose generation would
// wrap is retired for good. Hence: a closed or never-issued handle is refused always
// (stricter than Windows, where a closed SOCKET value may be handed out again at once).
const (
	tagSocket   uint64 = 0x5A
	tagProvider uint64 = 0x5B
	genBits            = 24
	genMask     uint64 = 1<<genBits - 1
)

// handleTable is one table of generation-checked handles to values of type T.
// Safe for concurrent use; lookups take a read lock only.
type handleTable[T any] struct {
	tag   uint64
	limit int // slots in use at most

	mu    sync.RWMutex
	slots []hslot[T]
	free  []uint32 // indexes of unused slots
	live  int
}

type hslot[T any] struct {
	gen  uint32 // current generation; a handle matches only with this one
	used bool
	val  T
}

func newHandleTable[T any](tag uint64, limit int) *handleTable[T] {
	return &handleTable[T]{tag: tag, limit: limit}
}

func (t *handleTable[T]) encode(idx, gen uint32) uint64 {
	return t.tag<<56 | uint64(gen)<<32 | uint64(idx)
}

// add issues a handle for v; ok is false when the table is full.
func (t *handleTable[T]) add(v T) (h uint64, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.live >= t.limit {
		return 0, false
	}
	var idx uint32
	if n := len(t.free); n > 0 {
		idx = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		idx = uint32(len(t.slots))
		t.slots = append(t.slots, hslot[T]{gen: 1})
	}
	s := &t.slots[idx]
	s.used, s.val = true, v
	t.live++
	return t.encode(idx, s.gen), true
}

// slot returns the index of h when h is a live handle of this table.
func (t *handleTable[T]) slotLocked(h uint64) (uint32, bool) {
	if h>>56 != t.tag {
		return 0, false
	}
	idx, gen := uint32(h), uint32(h>>32&genMask)
	if int(idx) >= len(t.slots) {
		return 0, false
	}
	s := &t.slots[idx]
	return idx, s.used && s.gen == gen
}

// get returns the value of a live handle.
func (t *handleTable[T]) get(h uint64) (v T, ok bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	idx, ok := t.slotLocked(h)
	if !ok {
		return v, false
	}
	return t.slots[idx].val, true
}

// remove ends h: later lookups of it fail. It returns the value it held.
func (t *handleTable[T]) remove(h uint64) (v T, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	idx, ok := t.slotLocked(h)
	if !ok {
		return v, false
	}
	s := &t.slots[idx]
	v = s.val
	var zero T
	s.used, s.val = false, zero
	t.live--
	if uint64(s.gen) < genMask {
		s.gen++
		t.free = append(t.free, idx)
	} // else: retired, never reused
	return v, true
}

// all returns every live value (for cleanup).
func (t *handleTable[T]) all() []T {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]T, 0, t.live)
	for i := range t.slots {
		if t.slots[i].used {
			out = append(out, t.slots[i].val)
		}
	}
	return out
}

// handles returns every live handle.
func (t *handleTable[T]) handles() []uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]uint64, 0, t.live)
	for i := range t.slots {
		if t.slots[i].used {
			out = append(out, t.encode(uint32(i), t.slots[i].gen))
		}
	}
	return out
}

// count is the number of live handles.
func (t *handleTable[T]) count() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.live
}
