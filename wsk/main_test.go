package wsk

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/refcount"
)

func TestMain(m *testing.M) {
	// Contract breaches panic (bug checks) instead of being counted, so a double
	// completion or a release without acquire fails the test that caused it.
	irp.SetVerifier(true)
	refcount.SetVerifier(true)
	goleak.VerifyTestMain(m)
}
