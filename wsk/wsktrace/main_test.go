package wsktrace

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/refcount"
)

func TestMain(m *testing.M) {
	// Contract breaches panic (bug checks): a layer that broke the IRP contract (pending
	// not carried up, a routine run twice) fails the test that caused it.
	irp.SetVerifier(true)
	refcount.SetVerifier(true)
	goleak.VerifyTestMain(m)
}
