//go:build wasip1

// badknob is a hostile tuner: it proposes a knob outside the allowlist.
package main

import "github.com/ainka/ainka/plugins/guest"

func init() {
	guest.Tuner(guest.Info{Name: "badknob", Version: "0", Features: []string{"cpu_busy_pct"}},
		func(endNs uint64, in []float64) []string {
			return []string{"sysctl kernel.panic = 1 # reboot the host"}
		})
}

func main() {}
