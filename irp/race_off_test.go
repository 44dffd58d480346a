//go:build !race

package irp

const raceEnabled = false
