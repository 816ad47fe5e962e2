//go:build wasip1

// Command tuner is an example AINKA tuner plugin, "swappiness": when
// memory pressure (psi mem some) stays above 10 % for 10 windows in a row
// while memory is short, it proposes lowering vm.swappiness by 10, so that
// reclaim favours the page cache over anonymous memory; then it waits 50
// windows before proposing again. AINKA's actuate stage decides what
// becomes of a proposal: allowlist, range and step clamps, journal, rate
// limits, yield to an administrator, restore at exit.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o swappiness.wasm .
package main

import (
	"fmt"
	"math"

	"github.com/ainka/ainka/plugins/guest"
)

const (
	pressurePct = 10
	holdWindows = 10
	cooldown    = 50
	shortMB     = 1024
)

var streak, quiet int

func init() {
	guest.Tuner(guest.Info{Name: "swappiness", Version: "1.0.0",
		Description: "lower vm.swappiness under sustained memory pressure",
		Features:    []string{"psi_mem_some_pct", "mem_available_mb"}}, tune)
}

func tune(endNs uint64, in []float64) []string {
	psi, avail := in[0], in[1]
	if quiet > 0 {
		quiet--
		return nil
	}
	if math.IsNaN(psi) || psi <= pressurePct || !(avail < shortMB) {
		streak = 0
		return nil
	}
	if streak++; streak < holdWindows {
		return nil
	}
	streak, quiet = 0, cooldown
	return []string{fmt.Sprintf("sysctl vm.swappiness -= 10 # psi mem some %.1f%% > %d%% for %d windows, %.0f MB available", psi, pressurePct, holdWindows, avail)}
}

func main() {}
