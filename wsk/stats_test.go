//go:build unix || windows

package wsk

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/refcount"
)

// TestStatsCountLowerLayerMisuse: a double completion of an IRP and a rundown release
// without an acquire, counted and ignored outside verifier mode, show in every
// registration's Stats (the counters are process-wide).
func TestStatsCountLowerLayerMisuse(t *testing.T) {
	r, _ := newReg(t)
	oldIRP, oldRef := irp.SetVerifier(false), refcount.SetVerifier(false)
	t.Cleanup(func() { irp.SetVerifier(oldIRP); refcount.SetVerifier(oldRef) })
	base := r.Stats()

	i := irp.Allocate(1)
	i.Complete(irp.Success, 0)
	i.Complete(irp.Success, 0) // the misuse: counted and ignored
	i.Free()
	var rd refcount.Rundown
	rd.Release() // the misuse: clamped and counted

	s := r.Stats()
	require.Equal(t, base.IRPViolations+1, s.IRPViolations)
	require.Equal(t, base.UnbalancedRundownReleases+1, s.UnbalancedRundownReleases)
	require.Equal(t, base.Misuse, s.Misuse, "Misuse counts the provider's own breaches only")
	finish(t, r)
}
