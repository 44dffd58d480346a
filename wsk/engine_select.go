package wsk

import (
	"os"
	"runtime"

	"github.com/gowsk/gowsk/irp"
)

// EngineKind names the engine that drives a registration's sockets (WithEngine).
//
//	EngineEpoll     one epoll set per loop (Linux only; the default there)
//	EnginePortable  Go's runtime network poller on every Unix Go supports (the default
//	                outside Linux; on Linux too, to run the same code on both), and a
//	                WSAPoll poller per loop on Windows (the only engine there)
//
// They give the same behaviour: the provider's conformance tests are one code for all.
// On Unix the portable engine costs two parked goroutines per open socket and a
// goroutine hand-off per readiness edge (see wsk/internal/engine). Plan 9, js and wasip1
// have no engine: Register returns STATUS_NOT_SUPPORTED there.
type EngineKind int

const (
	// EngineDefault takes the environment variable GOWSK_ENGINE ("epoll" or
	// "portable") when it is set, else the OS's default engine.
	EngineDefault EngineKind = iota
	EngineEpoll
	EnginePortable
)

// EngineEnv is the environment variable read by Register when WithEngine is not given
// (or given EngineDefault): "epoll" or "portable"; empty means the OS's default.
const EngineEnv = "GOWSK_ENGINE"

// String returns "default", "epoll" or "portable".
func (k EngineKind) String() string {
	switch k {
	case EngineDefault:
		return "default"
	case EngineEpoll:
		return "epoll"
	case EnginePortable:
		return "portable"
	}
	return "EngineKind(invalid)"
}

// WithEngine chooses the engine; without it Register reads GOWSK_ENGINE. Register
// answers STATUS_INVALID_PARAMETER for a kind (or variable value) it does not know and
// STATUS_NOT_SUPPORTED for EngineEpoll outside Linux.
func WithEngine(k EngineKind) Option { return func(c *config) { c.engine = k } }

// resolveEngine turns the option (and GOWSK_ENGINE) into the engine to start.
func resolveEngine(k EngineKind) (EngineKind, irp.Status) {
	if k == EngineDefault {
		switch v := os.Getenv(EngineEnv); v {
		case "":
		case "epoll":
			k = EngineEpoll
		case "portable":
			k = EnginePortable
		default:
			return 0, irp.InvalidParameter
		}
	}
	switch k {
	case EngineDefault:
		if runtime.GOOS == "linux" {
			return EngineEpoll, irp.Success
		}
		return EnginePortable, irp.Success
	case EngineEpoll:
		if runtime.GOOS != "linux" {
			return 0, irp.NotSupported
		}
		return EngineEpoll, irp.Success
	case EnginePortable:
		return EnginePortable, irp.Success
	}
	return 0, irp.InvalidParameter
}

// Engine returns the engine this registration runs on (never EngineDefault). Safe for
// concurrent use.
func (r *Registration) Engine() EngineKind {
	if r == nil {
		return EngineDefault
	}
	return r.engine
}
