//go:build wasip1

// Command detector is an example AINKA detector plugin, "pressure": it
// learns each pressure signal's normal level (an exponentially weighted
// mean and variance per input, in event time windows) and scores how far
// the current window lies above it. Two scores:
//
//	pressure_surge  the largest upward z-score of the inputs, 0 below 3
//	                sigmas, towards 1 far above (after 50 windows of warm-up)
//	cpu_starved     the share of time runnable tasks waited for a CPU
//	                (psi cpu some), as a fraction
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o pressure.wasm .
package main

import (
	"math"

	"github.com/ainka/ainka/plugins/guest"
)

var inputs = []string{"runq_latency_p99_us", "psi_cpu_some_pct", "psi_mem_some_pct", "psi_io_some_pct", "blk_latency_p99_us"}

const (
	alpha  = 0.02 // about 50 windows of memory
	warmup = 50
)

var (
	mean, vari [5]float64
	seen       [5]int
)

func init() {
	guest.Detector(guest.Info{Name: "pressure", Version: "1.0.0",
		Description: "z-score of run-queue latency and PSI above their learned level; CPU starvation",
		Features:    inputs, Scores: []string{"pressure_surge", "cpu_starved"}}, score)
}

func score(endNs uint64, in, scores []float64) {
	z := 0.0
	for i, x := range in {
		if math.IsNaN(x) {
			continue
		}
		d := x - mean[i]
		if seen[i] >= warmup && vari[i] > 0 {
			z = max(z, d/math.Sqrt(vari[i]))
		}
		mean[i] += alpha * d
		vari[i] = (1 - alpha) * (vari[i] + alpha*d*d)
		seen[i]++
	}
	scores[0] = 0
	if z > 3 {
		scores[0] = 1 - math.Exp(-(z-3)/3)
	}
	scores[1] = math.NaN()
	if cpu := in[1]; !math.IsNaN(cpu) {
		scores[1] = min(max(cpu/100, 0), 1)
	}
}

func main() {}
