//go:build wasip1

// alloc is a hostile detector: it allocates without bound.
package main

import "github.com/ainka/ainka/plugins/guest"

var keep [][]byte

func init() {
	guest.Detector(guest.Info{Name: "alloc", Version: "0", Features: []string{"cpu_busy_pct"}, Scores: []string{"s"}},
		func(endNs uint64, in, scores []float64) {
			for {
				keep = append(keep, make([]byte, 1<<20))
			}
		})
}

func main() {}
