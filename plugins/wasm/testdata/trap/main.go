//go:build wasip1

// trap is a hostile detector: it panics (an index out of range) on its
// third window.
package main

import "github.com/ainka/ainka/plugins/guest"

var calls int

func init() {
	guest.Detector(guest.Info{Name: "trap", Version: "0", Features: []string{"cpu_busy_pct"}, Scores: []string{"s"}},
		func(endNs uint64, in, scores []float64) {
			calls++
			scores[calls/3*5] = 0
		})
}

func main() {}
