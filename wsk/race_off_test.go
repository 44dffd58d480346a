//go:build !race && linux

package wsk

// raceEnabled: the race detector is on (race_on_test.go).
const raceEnabled = false
