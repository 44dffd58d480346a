package refcount

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRefFinaliserOnce(t *testing.T) {
	var fin atomic.Int32
	r := NewRef(func() { fin.Add(1) })
	require.Equal(t, 1, r.Count())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if r.Add() {
					r.Release()
				}
			}
		})
	}
	wg.Wait()
	require.Zero(t, fin.Load())
	require.True(t, r.Release(), "the creator's reference is the last")
	require.Equal(t, int32(1), fin.Load())
	require.False(t, r.Add(), "dead refs stay dead")
	require.Zero(t, r.Count())
}

func TestRefExtraRelease(t *testing.T) {
	withVerifier(t, false)
	var fin atomic.Int32
	var r Ref
	r.Init(func() { fin.Add(1) })
	require.True(t, r.Release())
	before := UnbalancedReleases()
	require.False(t, r.Release())
	require.Equal(t, before+1, UnbalancedReleases())
	require.Equal(t, int32(1), fin.Load())
	withVerifier(t, true)
	require.PanicsWithValue(t, msgUnbalanced, func() { r.Release() })
	require.Equal(t, int32(1), fin.Load())
}

func TestRefZeroValueIsDead(t *testing.T) {
	var r Ref
	require.False(t, r.Add())
}
