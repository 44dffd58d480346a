package main

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestWSKConnBytes holds the event server's per-connection record to its size class:
// it is everything an idle connection costs the server beside the provider's own
// records (wsk's TestPerConnectionBytes), and the idle suite compares that with peers
// whose echo servers keep nothing per connection.
func TestWSKConnBytes(t *testing.T) {
	require.LessOrEqual(t, unsafe.Sizeof(wskConn{}), uintptr(64), "wskConn grew past 64 bytes (size class 64)")
}
