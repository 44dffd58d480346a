package winsock

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Linearizability of the handle table (TESTING.md case 49): goroutines run add, get and
// remove on one table at the same time, each call recorded with its argument, its result
// and the moments it began and ended; a history is linearizable when some order of the
// calls that keeps every call that ended before another began ahead of it replays
// against a sequential model with the same results. The checker is a Wing & Gong search:
// pick a call no pending call must precede, apply it to the model, recurse, undo.

type hopKind uint8

const (
	hopAdd hopKind = iota
	hopGet
	hopRemove
)

func (k hopKind) String() string { return [...]string{"add", "get", "remove"}[k] }

// hop is one recorded call. For add, val is the argument and h the result; for get and
// remove, h is the argument and val the result. inv and res are ticks of one counter.
type hop struct {
	kind     hopKind
	h        uint64
	val      int
	ok       bool
	inv, res int64
}

func (o hop) String() string {
	return fmt.Sprintf("[%d,%d] %v h=%#x val=%d ok=%v", o.inv, o.res, o.kind, o.h, o.val, o.ok)
}

// anyValue as a remove's result means the remove does not say what the handle held
// (closesocket returns nothing).
const anyValue = -1 << 31

// handleModel is the sequential table: live handles with their values, every handle ever
// issued (a handle once removed is never valid again, so add must return a fresh one) and
// the limit on live handles.
type handleModel struct {
	live   map[uint64]int
	issued map[uint64]bool
	limit  int
}

// step applies o to m when o's recorded result is what the model would answer; undo
// reverses an accepted step.
func (m *handleModel) step(o hop) (accepted bool, undo func()) {
	nop := func() {}
	switch o.kind {
	case hopAdd:
		if !o.ok {
			return len(m.live) >= m.limit, nop
		}
		if len(m.live) >= m.limit || m.issued[o.h] {
			return false, nop
		}
		m.live[o.h], m.issued[o.h] = o.val, true
		return true, func() { delete(m.live, o.h); delete(m.issued, o.h) }
	case hopGet:
		v, live := m.live[o.h]
		return live == o.ok && (!live || v == o.val), nop
	default:
		v, live := m.live[o.h]
		if live != o.ok || (live && v != o.val && o.val != anyValue) {
			return false, nop
		}
		if live {
			delete(m.live, o.h)
			return true, func() { m.live[o.h] = v }
		}
		return true, nop
	}
}

// linearizable reports whether ops (at most 64) linearize against m. The model's state
// after a set of accepted calls depends only on the set (each call's result is fixed), so
// sets already proved dead are remembered and not searched again.
func linearizable(m *handleModel, ops []hop) bool {
	if len(ops) > 64 {
		panic("linearizable: more than 64 operations in one history")
	}
	all := uint64(1)<<len(ops) - 1
	if len(ops) == 64 {
		all = ^uint64(0)
	}
	dead := map[uint64]bool{}
	var search func(done uint64) bool
	search = func(done uint64) bool {
		if done == all {
			return true
		}
		if dead[done] {
			return false
		}
		// A pending call may go next only if it began before every pending call ended.
		minRes := int64(1<<63 - 1)
		for i, o := range ops {
			if done&(1<<i) == 0 {
				minRes = min(minRes, o.res)
			}
		}
		for i, o := range ops {
			if done&(1<<i) != 0 || o.inv > minRes {
				continue
			}
			ok, undo := m.step(o)
			if !ok {
				continue
			}
			found := search(done | 1<<i)
			undo()
			if found {
				return true
			}
		}
		dead[done] = true
		return false
	}
	return search(0)
}

// linTable is what the recorder drives: the real table, a broken one, or sockets of a
// session. add is asked to store v and returns the value it stored (a session stores
// the socket's own port instead).
type linTable interface {
	add(v int) (h uint64, stored int, ok bool)
	get(h uint64) (int, bool)
	remove(h uint64) (int, bool)
}

// linSetup is a table's state before a history: handles live with their values and
// handles already removed; model returns a fresh model of that state.
type linSetup struct {
	live  map[uint64]int
	stale []uint64
	limit int
}

func (s linSetup) model() *handleModel {
	m := &handleModel{live: map[uint64]int{}, issued: map[uint64]bool{}, limit: s.limit}
	for h, v := range s.live {
		m.live[h], m.issued[h] = v, true
	}
	for _, h := range s.stale {
		m.issued[h] = true
	}
	return m
}

// recordHistory runs one goroutine per table in tables (all the same table, or one
// session seen through several thread contexts), perWorker calls each, all released at
// once, and returns the calls as recorded. Arguments come from a pool of handles: the
// setup's live and stale ones, those never issued, and those added during the history.
func recordHistory(tables []linTable, setup linSetup, never []uint64, perWorker int, seed uint64) []hop {
	var (
		clock atomic.Int64
		mu    sync.Mutex
		pool  []uint64
		start = make(chan struct{})
		wg    sync.WaitGroup
	)
	for h := range setup.live {
		pool = append(pool, h)
	}
	pool = append(pool, setup.stale...)
	pool = append(pool, never...)
	out := make([][]hop, len(tables))
	for w, tb := range tables {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			<-start
			for i := range perWorker {
				mu.Lock()
				arg := pool[rng.IntN(len(pool))]
				mu.Unlock()
				var o hop
				switch r := rng.IntN(10); {
				case r < 3:
					o = hop{kind: hopAdd, val: (w+1)*1000 + i}
					o.inv = widen(&clock, rng)
					o.h, o.val, o.ok = tb.add(o.val)
					o.res = widen(&clock, rng)
					if o.ok {
						mu.Lock()
						pool = append(pool, o.h)
						mu.Unlock()
					}
				case r < 7:
					o = hop{kind: hopGet, h: arg}
					o.inv = widen(&clock, rng)
					o.val, o.ok = tb.get(arg)
					o.res = widen(&clock, rng)
				default:
					o = hop{kind: hopRemove, h: arg}
					o.inv = widen(&clock, rng)
					o.val, o.ok = tb.remove(arg)
					o.res = widen(&clock, rng)
				}
				out[w] = append(out[w], o)
			}
		}()
	}
	close(start)
	wg.Wait()
	var ops []hop
	for _, o := range out {
		ops = append(ops, o...)
	}
	return ops
}

// widen ticks the clock for a call's start or end and then, half the time, yields: the
// call's recorded window grows (it still holds the call), so calls of several goroutines
// overlap far more often than the table's short critical sections alone would allow.
func widen(clock *atomic.Int64, rng *rand.Rand) int64 {
	t := clock.Add(1)
	if rng.IntN(2) == 0 {
		runtime.Gosched()
	}
	return t
}

// newLinSetup fills tb with two live handles and two removed ones (so slots are reused
// during the history) and returns that state and handles the table never issued: another
// tag, a slot beyond the table, a live slot's next generation, generation 0.
func newLinSetup(tb linTable, limit int) (linSetup, []uint64) {
	s := linSetup{live: map[uint64]int{}, limit: limit}
	for v := range 4 {
		h, stored, _ := tb.add(-1 - v)
		s.live[h] = stored
	}
	n := 0
	for h := range s.live {
		if n == 2 {
			break
		}
		tb.remove(h)
		delete(s.live, h)
		s.stale = append(s.stale, h)
		n++
	}
	var never []uint64
	for h := range s.live {
		never = append(never, h+1<<32)
	}
	never = append(never, tagProvider<<56|1<<32, tagSocket<<56|1<<32|999, tagSocket<<56)
	return s, never
}

// linCounts are the outcomes a run of histories saw.
type linCounts struct {
	histories, ops, rejected   int
	overlaps                   int // pairs of calls that ran at the same time
	sameHandleOverlaps         int // of them, on the same handle, at least one a remove
	getHit, getMiss            int
	removeHit, removeMiss      int
	addOK, addFull, slotReused int
	firstRejected              []hop
}

func (c *linCounts) observe(ops []hop, setup linSetup) {
	c.histories++
	c.ops += len(ops)
	slots := map[uint32]bool{}
	for h := range setup.live {
		slots[uint32(h)] = true
	}
	for _, h := range setup.stale {
		slots[uint32(h)] = true
	}
	for i, o := range ops {
		switch {
		case o.kind == hopAdd && o.ok:
			c.addOK++
			if slots[uint32(o.h)] {
				c.slotReused++
			}
		case o.kind == hopAdd:
			c.addFull++
		case o.kind == hopGet && o.ok:
			c.getHit++
		case o.kind == hopGet:
			c.getMiss++
		case o.ok:
			c.removeHit++
		default:
			c.removeMiss++
		}
		for _, p := range ops[i+1:] {
			if o.inv < p.res && p.inv < o.res {
				c.overlaps++
				if o.kind != hopAdd && p.kind != hopAdd && o.h == p.h &&
					(o.kind == hopRemove || p.kind == hopRemove) {
					c.sameHandleOverlaps++
				}
			}
		}
	}
}

// runHistories records and checks histories on tables from newTable until n are done or
// the time runs out.
func runHistories(newTable func(limit int) linTable, n int, limit time.Duration) linCounts {
	const perWorker, tableLimit = 6, 5
	var c linCounts
	deadline := time.Now().Add(limit)
	for i := 0; i < n && time.Now().Before(deadline); i++ {
		tb := newTable(tableLimit)
		setup, never := newLinSetup(tb, tableLimit)
		ops := recordHistory([]linTable{tb, tb, tb, tb}, setup, never, perWorker, uint64(i))
		c.observe(ops, setup)
		if !linearizable(setup.model(), ops) {
			c.rejected++
			if c.firstRejected == nil {
				c.firstRejected = ops
			}
		}
	}
	return c
}

type realTable struct{ *handleTable[int] }

func (r realTable) add(v int) (uint64, int, bool) {
	h, ok := r.handleTable.add(v)
	return h, v, ok
}

func TestLinearizableHandleTable(t *testing.T) {
	n := 20_000
	if testing.Short() {
		n = 2000
	}
	start := time.Now()
	c := runHistories(func(limit int) linTable {
		return realTable{newHandleTable[int](tagSocket, limit)}
	}, n, 20*time.Second)
	t.Logf("%d histories, %d calls (4 goroutines x 6), %d overlapping pairs (%d on one handle "+
		"with a remove); get %d hit %d miss, remove %d hit %d miss, add %d ok %d full, %d into "+
		"a reused slot; %v", c.histories, c.ops, c.overlaps, c.sameHandleOverlaps, c.getHit,
		c.getMiss, c.removeHit, c.removeMiss, c.addOK, c.addFull, c.slotReused, time.Since(start))
	require.Zero(t, c.rejected, "a history is not linearizable: %v", c.firstRejected)
	require.GreaterOrEqual(t, c.histories, min(n, 100), "too few histories in the time")
	for name, v := range map[string]int{
		"overlapping calls": c.overlaps, "overlapping calls on one handle": c.sameHandleOverlaps,
		"get hits": c.getHit, "get misses": c.getMiss, "remove hits": c.removeHit,
		"remove misses": c.removeMiss, "adds": c.addOK, "full table": c.addFull,
		"reused slots": c.slotReused,
	} {
		require.Positive(t, v, "no %s: the histories do not cover it", name)
	}
}

// reissuingTable is the table with one bug: remove does not move the slot's generation
// on, so the next add reissues the removed handle and the stale handle matches again.
type reissuingTable struct{ realTable }

func (b reissuingTable) remove(h uint64) (int, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	idx, ok := b.slotLocked(h)
	if !ok {
		return 0, false
	}
	return b.clearLocked(idx, false), true
}

// splitRemoveTable is the table with a bug only concurrency shows: remove checks the
// handle under the read lock and ends it under the write lock, so two removes of one
// handle can both succeed (and both hand the slot back).
type splitRemoveTable struct{ realTable }

func (b splitRemoveTable) remove(h uint64) (int, bool) {
	b.mu.RLock()
	idx, ok := b.slotLocked(h)
	b.mu.RUnlock()
	if !ok {
		return 0, false
	}
	runtime.Gosched()
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.clearLocked(idx, true), true
}

// clearLocked ends slot idx as remove does, moving the generation on only if bump.
func (t *handleTable[T]) clearLocked(idx uint32, bump bool) T {
	s := &t.slots[idx]
	v := s.val
	var zero T
	s.used, s.val = false, zero
	t.live--
	if bump {
		s.gen++
	}
	t.free = append(t.free, idx)
	return v
}

// The search rejects histories of broken tables: the checker can fail.
func TestLinearizableCatchesBrokenTables(t *testing.T) {
	for name, newTable := range map[string]func(limit int) linTable{
		"reissued handle": func(limit int) linTable {
			return reissuingTable{realTable{newHandleTable[int](tagSocket, limit)}}
		},
		"split remove": func(limit int) linTable {
			return splitRemoveTable{realTable{newHandleTable[int](tagSocket, limit)}}
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := runHistories(newTable, 2000, 10*time.Second)
			t.Logf("%d of %d histories of the broken table rejected", c.rejected, c.histories)
			require.Positive(t, c.rejected)
		})
	}
}

// Hand-made histories: the search accepts a get that overlaps the remove of its handle,
// and rejects one that began after the remove ended, a fresh handle issued twice, a
// never-issued handle found, and a get that returns another value.
func TestLinearizableCheckerHandMade(t *testing.T) {
	const h1, h2 = tagSocket<<56 | 1<<32, tagSocket<<56 | 1<<32 | 1
	setup := linSetup{live: map[uint64]int{h1: 7}, limit: 4}
	for _, tc := range []struct {
		name string
		want bool
		ops  []hop
	}{
		{"get overlapping remove sees the value", true, []hop{
			{kind: hopRemove, h: h1, val: 7, ok: true, inv: 1, res: 4},
			{kind: hopGet, h: h1, val: 7, ok: true, inv: 2, res: 5},
		}},
		{"get overlapping remove misses", true, []hop{
			{kind: hopRemove, h: h1, val: 7, ok: true, inv: 1, res: 4},
			{kind: hopGet, h: h1, ok: false, inv: 2, res: 5},
		}},
		{"two removes, one wins", true, []hop{
			{kind: hopRemove, h: h1, ok: false, inv: 1, res: 4},
			{kind: hopRemove, h: h1, val: 7, ok: true, inv: 2, res: 5},
		}},
		{"get of a new handle while add runs", true, []hop{
			{kind: hopAdd, h: h2, val: 8, ok: true, inv: 1, res: 4},
			{kind: hopGet, h: h2, val: 8, ok: true, inv: 2, res: 3},
		}},
		{"get after the remove ended", false, []hop{
			{kind: hopRemove, h: h1, val: 7, ok: true, inv: 1, res: 2},
			{kind: hopGet, h: h1, val: 7, ok: true, inv: 3, res: 4},
		}},
		{"two removes both win", false, []hop{
			{kind: hopRemove, h: h1, val: 7, ok: true, inv: 1, res: 4},
			{kind: hopRemove, h: h1, val: 7, ok: true, inv: 2, res: 5},
		}},
		{"removed handle reissued", false, []hop{
			{kind: hopRemove, h: h1, val: 7, ok: true, inv: 1, res: 2},
			{kind: hopAdd, h: h1, val: 9, ok: true, inv: 3, res: 4},
		}},
		{"never-issued handle found", false, []hop{
			{kind: hopGet, h: h2, val: 0, ok: true, inv: 1, res: 2},
		}},
		{"get of a new handle before add began", false, []hop{
			{kind: hopGet, h: h2, val: 8, ok: true, inv: 1, res: 2},
			{kind: hopAdd, h: h2, val: 8, ok: true, inv: 3, res: 4},
		}},
		{"wrong value", false, []hop{
			{kind: hopGet, h: h1, val: 8, ok: true, inv: 1, res: 2},
		}},
		{"full while not full", false, []hop{
			{kind: hopAdd, val: 9, ok: false, inv: 1, res: 2},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, linearizable(setup.model(), tc.ops))
		})
	}
}
