//go:build linux

package wsk

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/refcount"
	"github.com/gowsk/gowsk/wsk/internal/engine"
)

// TestPerConnectionBytes holds the records an idle connection keeps to the budget the
// package doc gives (# Memory per connection): a field added to one of them must fit, or
// the budget and the doc change with it. Sizes are the records' own (unsafe.Sizeof); the
// allocator rounds each up to its size class, named beside it.
func TestPerConnectionBytes(t *testing.T) {
	for _, c := range []struct {
		name   string
		size   uintptr
		budget uintptr
	}{
		{"socket (size class 352)", unsafe.Sizeof(socket{}), 352},
		{"dispatch.Socket (inside socket)", unsafe.Sizeof(dispatch.Socket{}), 88},
		{"refcount.Rundown (three per socket)", unsafe.Sizeof(refcount.Rundown{}), 16},
		{"connEvents (size class 64)", unsafe.Sizeof(connEvents{}), 64},
		{"engine.FD (size class 48)", unsafe.Sizeof(engine.FD{}), 48},
		// Per request in flight, pooled: not held by an idle connection.
		{"op (pooled, size class 192)", unsafe.Sizeof(op{}), 192},
	} {
		t.Logf("%-40s %4d B (budget %d)", c.name, c.size, c.budget)
		require.LessOrEqual(t, c.size, c.budget, "%s grew past its budget", c.name)
	}
}
