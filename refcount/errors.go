package refcount

import "errors"

var (
	// ErrRundown reports that rundown has begun (or completed): the protected object is
	// going away and no new reference is granted. It maps to a FALSE return from
	// ExAcquireRundownProtection.
	ErrRundown = errors.New("refcount: rundown in progress")
	// ErrOverflow reports that granting the reference would take a counter past MaxRefs.
	// It is an error, never a panic; the guard stays usable and its count is unchanged.
	ErrOverflow = errors.New("refcount: too many references")
	// ErrNotRunDown reports a ReInit on a guard whose rundown has not completed
	// (ExReInitializeRundownProtection is only valid on a run-down ref).
	ErrNotRunDown = errors.New("refcount: reinit before rundown completed")
)

// MaxRefs bounds the references one counter may hold (for Sharded: one shard, and
// one AcquireN request). About a billion references is far beyond any real use;
// a request beyond it is refused with ErrOverflow rather than wrapping the word.
const MaxRefs = 1<<30 - 1
