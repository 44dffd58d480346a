package irp

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
)

// verifierOn selects what a contract violation does: panic (Driver Verifier style,
// the model of a bug check) or count-and-recover. Read with an atomic load on every
// violation only, so flipping it costs the fast path nothing.
var verifierOn atomic.Bool

func init() {
	if os.Getenv("GOWSK_VERIFIER") == "1" {
		verifierOn.Store(true)
	}
}

// SetVerifier switches verifier mode (also on when GOWSK_VERIFIER=1 at start-up) and
// returns the previous setting. In verifier mode a contract violation panics with a
// message naming the bug check; otherwise it is counted in ReadStats().Violations and
// the safe action is taken. Safe for concurrent use.
func SetVerifier(on bool) (old bool) { return verifierOn.Swap(on) }

// Verifier reports whether verifier mode is on. Safe for concurrent use.
func Verifier() bool { return verifierOn.Load() }

// violation identifies one kind of contract violation.
type violation int

const (
	vNoMoreStackLocations    violation = iota // 0x35
	vMultipleComplete                         // 0x44
	vCancelStateInCompleted                   // 0x48
	vCompletePendingStatus                    // 0xC9 (verifier I/O check)
	vFreePending                              // 0xC9
	vReusePending                             // 0xC9
	vReuseWithCancelRoutine                   // 0xC9
	vUseAfterFree                             // 0xC9
	vReturnWithoutCompletion                  // 0xC9
	vSentWhileCompleting                      // 0xC9
	vSentWhilePending                         // 0xC9
	numViolations
)

// violationInfo gives the bug-check code and the key used in Stats.Violations.
var violationInfo = [numViolations]struct {
	code uint32
	name string
}{
	vNoMoreStackLocations:    {0x35, "NO_MORE_IRP_STACK_LOCATIONS"},
	vMultipleComplete:        {0x44, "MULTIPLE_IRP_COMPLETE_REQUESTS"},
	vCancelStateInCompleted:  {0x48, "CANCEL_STATE_IN_COMPLETED_IRP"},
	vCompletePendingStatus:   {0xC9, "IRP_COMPLETED_WITH_STATUS_PENDING"},
	vFreePending:             {0xC9, "IRP_FREED_WHILE_PENDING"},
	vReusePending:            {0xC9, "IRP_REUSED_WHILE_PENDING"},
	vReuseWithCancelRoutine:  {0xC9, "IRP_REUSED_WITH_CANCEL_ROUTINE"},
	vUseAfterFree:            {0xC9, "IRP_USED_AFTER_FREE"},
	vReturnWithoutCompletion: {0xC9, "IRP_NOT_COMPLETED_ON_SYNC_RETURN"},
	vSentWhileCompleting:     {0xC9, "IRP_SENT_WHILE_COMPLETING"},
	vSentWhilePending:        {0xC9, "IRP_SENT_WHILE_PENDING"},
}

// bugCheckPrefix begins the value of every verifier panic ("irp: bug check 0x.. NAME: detail").
const bugCheckPrefix = "irp: bug check "

// IsBugCheck reports whether v, a recovered panic value, is a verifier bug check. Code that
// recovers panics of user code (a completion routine, a callback) uses it to let a bug check
// go on: in verifier mode it is meant to stop the program.
func IsBugCheck(v any) bool {
	msg, ok := v.(string)
	return ok && strings.HasPrefix(msg, bugCheckPrefix)
}

var violationCounts [numViolations]atomic.Uint64

// violationWarned records, per kind, that the one warning of the process was logged.
var violationWarned [numViolations]atomic.Bool

// report records a violation: it panics in verifier mode, and counts it otherwise (the
// first of each kind in the process is also logged, warnViolation). The caller then takes
// the safe action.
func report(v violation, detail string) {
	violationCounts[v].Add(1)
	info := violationInfo[v]
	if verifierOn.Load() {
		panic(fmt.Sprintf(bugCheckPrefix+"0x%X %s: %s", info.code, info.name, detail))
	}
	if !violationWarned[v].Load() && violationWarned[v].CompareAndSwap(false, true) {
		warnViolation(info.code, info.name, detail)
	}
}

// warnViolation logs the first counted violation of a kind to slog.Default at Warn level:
// a counted-and-ignored misuse must not go unseen. Later ones of the kind are only
// counted (ReadStats().Violations).
func warnViolation(code uint32, name, detail string) {
	slog.Default().Warn("irp: contract violation counted and ignored; later ones of this kind "+
		"are only counted in irp.ReadStats().Violations (GOWSK_VERIFIER=1 makes them panic)",
		"bug_check", fmt.Sprintf("0x%X", code), "name", name, "detail", detail)
}
