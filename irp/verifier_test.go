package irp

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestVerifierRerun re-runs the key lifecycle cases with the verifier forced on, so
// a plain `go test` exercises both modes even without GOWSK_VERIFIER=1.
func TestVerifierRerun(t *testing.T) {
	withVerifier(t, true, func(t *testing.T) {
		require.True(t, Verifier())
		t.Run("walk", TestWalkOrderAndMPR)
		t.Run("mask", TestInvokeMask)
		t.Run("pending", TestPendingReturnedCarried)
		t.Run("cancel", TestCancelSemantics)
		t.Run("nil device", TestOneLocationNilDevice)
		t.Run("cancel lock", TestCancelLockOrderings)
		t.Run("do", TestDoCancelledByContext)
		t.Run("bind", TestBindContext)
	})
}

func TestVerifierPanicMessage(t *testing.T) {
	withVerifier(t, true, func(t *testing.T) {
		i := Allocate(1)
		require.Equal(t, Success, i.Enter(devA))
		i.Complete(Success, 0)
		var msg string
		func() {
			defer func() { msg, _ = recover().(string) }()
			i.Complete(Success, 0)
		}()
		require.True(t, strings.HasPrefix(msg, "irp: bug check 0x44 MULTIPLE_IRP_COMPLETE_REQUESTS: "), msg)
		i.Free()
	})
}
