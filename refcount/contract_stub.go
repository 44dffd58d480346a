package refcount

// CONTRACT STUB — written by the lead to pin the exported API that dispatch/ and wsk/
// are coded against while refcount/ is being implemented. The implementer replaces this
// file with real code and deletes it. Keep these signatures (adding API is fine).

import (
	"context"
	"errors"
)

var (
	// ErrRundown: rundown has begun (or completed); the protected object is going away.
	ErrRundown = errors.New("refcount: rundown in progress")
	// ErrOverflow: too many references; an error, never a panic.
	ErrOverflow = errors.New("refcount: too many references")
)

// Rundown is EX_RUNDOWN_REF. The zero value is ready to use. Hot path: one atomic op.
type Rundown struct{ _ uint64 }

func (r *Rundown) Acquire() bool                  { panic("stub") } // false after rundown began (or overflow)
func (r *Rundown) TryAcquire() error              { panic("stub") } // nil, ErrRundown or ErrOverflow
func (r *Rundown) AcquireN(n uint32) bool         { panic("stub") }
func (r *Rundown) Release()                       { panic("stub") }
func (r *Rundown) ReleaseN(n uint32)              { panic("stub") }
func (r *Rundown) Wait(ctx context.Context) error { panic("stub") } // begin + wait; any number of waiters
// WaitFunc begins rundown and arranges for fn to run exactly once when every granted
// reference is back: at once on the caller's goroutine if none is held, otherwise on the
// goroutine whose Release drops the last reference. It never blocks (safe to call from
// inside a call that itself holds a reference: close from a completion routine).
func (r *Rundown) WaitFunc(fn func())    { panic("stub") }
func (r *Rundown) Begin() (drained bool) { panic("stub") } // begin rundown without waiting
func (r *Rundown) Active() bool          { panic("stub") } // rundown has begun
func (r *Rundown) Done() bool            { panic("stub") } // rundown has begun and drained
func (r *Rundown) Count() int            { panic("stub") } // references held now
func (r *Rundown) ReInit() error         { panic("stub") } // only after a completed rundown

// Sharded is the cache-aware variant (EX_RUNDOWN_REF_CACHE_AWARE): same methods.
type Sharded struct{}

func NewSharded() *Sharded { panic("stub") }

// Ref is a plain reference count whose last Release runs a finaliser once.
type Ref struct{}

func NewRef(fin func()) *Ref   { panic("stub") } // count starts at 1
func (r *Ref) Init(fin func()) { panic("stub") } // in-place form of NewRef
func (r *Ref) Add() bool       { panic("stub") } // false once the count reached zero
func (r *Ref) Release() bool   { panic("stub") } // true if this was the last reference
func (r *Ref) Count() int      { panic("stub") }
