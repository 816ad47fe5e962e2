//go:build wasip1

// garbage is a hostile detector: its score lies outside [0,1].
package main

import "github.com/ainka/ainka/plugins/guest"

func init() {
	guest.Detector(guest.Info{Name: "garbage", Version: "0", Features: []string{"cpu_busy_pct"}, Scores: []string{"s"}},
		func(endNs uint64, in, scores []float64) { scores[0] = 7 })
}

func main() {}
