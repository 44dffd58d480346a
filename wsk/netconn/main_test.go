package netconn_test

import (
	"context"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gowsk/gowsk/wsk/netconn"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(&shutdownFirst{m})
}

// shutdownFirst shuts the default provider down after the tests and before goleak
// looks: its engine loops are the only goroutines allowed to outlive a test.
type shutdownFirst struct{ m *testing.M }

func (s *shutdownFirst) Run() int {
	code := s.m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := netconn.Shutdown(ctx); err != nil {
		os.Stderr.WriteString("netconn.Shutdown: " + err.Error() + "\n")
	}
	return code
}
