package refcount

import "sync/atomic"

// Ref is a plain reference count (ObReferenceObject / ObDereferenceObject shape): it
// starts at 1 for the creator, Add takes another reference while the object lives, and
// the Release that drops the count to zero runs the finaliser exactly once. Once zero,
// the count never rises again (Add fails). Safe for concurrent use. The zero value
// is already dead; use NewRef or Init.
type Ref struct {
	n   atomic.Int64
	fin func()
}

// NewRef returns a Ref holding one reference; fin (may be nil) runs on the last Release.
func NewRef(fin func()) *Ref {
	r := new(Ref)
	r.Init(fin)
	return r
}

// Init is the in-place form of NewRef. It must not race with other methods.
func (r *Ref) Init(fin func()) {
	r.fin = fin
	r.n.Store(1)
}

// Add takes a reference; false once the count has reached zero (object finalised)
// or would pass MaxRefs.
func (r *Ref) Add() bool {
	for {
		c := r.n.Load()
		if c <= 0 || c >= MaxRefs {
			return false
		}
		if r.n.CompareAndSwap(c, c+1) {
			return true
		}
	}
}

// Release drops a reference and reports whether it was the last one; the last Release
// runs the finaliser on the calling goroutine before returning. A Release on a dead
// Ref is counted (UnbalancedReleases) and returns false, or panics in verifier mode.
func (r *Ref) Release() bool {
	for {
		c := r.n.Load()
		if c <= 0 {
			reportUnbalanced(1)
			return false
		}
		if r.n.CompareAndSwap(c, c-1) {
			if c != 1 {
				return false
			}
			if r.fin != nil {
				r.fin()
			}
			return true
		}
	}
}

// Count returns the references held now.
func (r *Ref) Count() int { return int(r.n.Load()) }
