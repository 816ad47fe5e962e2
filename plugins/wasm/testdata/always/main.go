//go:build wasip1

// always is a test tuner: every window it proposes setting vm.swappiness
// to 0, a step larger than the allowlist lets one write take.
package main

import "github.com/ainka/ainka/plugins/guest"

func init() {
	guest.Tuner(guest.Info{Name: "always", Version: "1", Features: []string{"cpu_busy_pct"}},
		func(endNs uint64, in []float64) []string { return []string{"sysctl vm.swappiness = 0 # test"} })
}

func main() {}
