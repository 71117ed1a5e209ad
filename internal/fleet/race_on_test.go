//go:build race

package fleet_test

// raceEnabled is true under the race detector: the fleet is then smaller (each
// goroutine costs much more, and the detector caps the live goroutines).
const raceEnabled = true
