//go:build unix || windows

package engine

import "runtime"

// curGoid returns the current goroutine's id, parsed from the stack header
// "goroutine N [". Only used on slow paths (Close).
func curGoid() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	b := buf[:n]
	const prefix = "goroutine "
	if len(b) < len(prefix) {
		return 0
	}
	b = b[len(prefix):]
	var id uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}
