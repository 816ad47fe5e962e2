//go:build wasip1

// loop is a hostile detector: its first call never returns.
package main

import "github.com/ainka/ainka/plugins/guest"

var n int

func init() {
	guest.Detector(guest.Info{Name: "loop", Version: "0", Features: []string{"cpu_busy_pct"}, Scores: []string{"s"}},
		func(endNs uint64, in, scores []float64) {
			for {
				n++
			}
		})
}

func main() {}
