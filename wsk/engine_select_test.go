//go:build unix || windows

package wsk

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// TestEngineSelection: WithEngine wins over GOWSK_ENGINE, the variable is read when the
// option is absent, a value it does not know is STATUS_INVALID_PARAMETER (a typo must not
// run the suite on the other engine unnoticed), and epoll exists only on Linux.
func TestEngineSelection(t *testing.T) {
	npi := &ClientNPI{Dispatch: &dispatch.ClientDispatch{Version: dispatch.MakeVersion(1, 0)}}
	native := EnginePortable
	if runtime.GOOS == "linux" {
		native = EngineEpoll
	}
	type engineCase struct {
		env       string
		opt, want EngineKind
		st        irp.Status
	}
	cases := []engineCase{
		{"", EngineDefault, native, irp.Success},
		{"portable", EngineDefault, EnginePortable, irp.Success},
		{"portable", EnginePortable, EnginePortable, irp.Success},
		{"epoll", EnginePortable, EnginePortable, irp.Success},
		{"bogus", EngineDefault, 0, irp.InvalidParameter},
		{"bogus", EnginePortable, EnginePortable, irp.Success},
		{"", EngineKind(42), 0, irp.InvalidParameter},
	}
	if runtime.GOOS == "linux" {
		cases = append(cases, engineCase{"epoll", EngineDefault, EngineEpoll, irp.Success})
	} else {
		cases = append(cases, engineCase{"", EngineEpoll, 0, irp.NotSupported})
	}
	for _, c := range cases {
		t.Run(c.env+"/"+c.opt.String(), func(t *testing.T) {
			t.Setenv(EngineEnv, c.env)
			r, st := Register(npi, WithEngine(c.opt))
			require.Equal(t, c.st, st)
			if st != irp.Success {
				require.Nil(t, r)
				return
			}
			require.Equal(t, c.want, r.Engine())
			require.Equal(t, c.want == EnginePortable, r.eng.Portable())
			r.Deregister()
		})
	}
	require.Equal(t, EngineDefault, (*Registration)(nil).Engine())
	require.Equal(t, "EngineKind(invalid)", EngineKind(42).String())
}
