package winsock_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/refcount"
)

func TestMain(m *testing.M) {
	irp.SetVerifier(true)
	refcount.SetVerifier(true)
	goleak.VerifyTestMain(m)
}
