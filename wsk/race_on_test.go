//go:build race && linux

package wsk

// raceEnabled: the race detector is on; allocation counts are not the program's own
// (sync.Pool drops items at random under it).
const raceEnabled = true
