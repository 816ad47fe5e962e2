//go:build race

package web_test

// raceEnabled: the race detector slows everything 5–10×, so latency
// bounds are logged, not asserted.
const raceEnabled = true
