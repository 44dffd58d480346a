//go:build !unix && !windows

package wsk

import "github.com/gowsk/gowsk/wsk/internal/engine"

// wakeList has no sockets to wake where the provider has no sockets (wake.go).
type wakeList struct{}

func newWakeLists(*Registration, []*engine.Loop) []*wakeList { return nil }
