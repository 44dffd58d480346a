package dispatch

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBrokenGuardIsCaught swaps the guard's atomic acquire for a check-then-acquire
// mutant: it reads the closing flag, yields, then trusts that stale check and proceeds
// even when the rundown refuses it. The race stress must notice.
//
// What catches it: raceStats.afterClose (a call reached the provider after its close ran)
// and raceStats.closeEarly (the provider's close ran while a mutant call that holds no
// reference was still inside it). Either being non-zero is the catch.
func TestBrokenGuardIsCaught(t *testing.T) {
	real := acquireHook
	t.Cleanup(func() { acquireHook = real })
	acquireHook = func(s *Socket) (proceed, held bool) {
		if s.Closing() {
			return false, false
		}
		runtime.Gosched() // widen the check-to-use window
		ok := s.rundown.Acquire()
		return true, ok // bug: proceeds on the stale check
	}
	const maxRounds = 2000
	var st raceStats
	for done := 0; done < maxRounds; done += 50 {
		raceClose(t, 50, &st)
		if st.afterClose.Load()+st.closeEarly.Load() > 0 {
			break
		}
	}
	t.Logf("mutant caught: afterClose=%d closeEarly=%d", st.afterClose.Load(), st.closeEarly.Load())
	require.Positive(t, st.afterClose.Load()+st.closeEarly.Load(),
		"the race stress failed to catch a non-atomic guard")
}
