//go:build wasip1

// bench30 is the benchmark's detector: 30 inputs (every feature, the
// first ones again to make up 30), an exponentially weighted mean and
// variance per input, the largest z-score as its score.
package main

import (
	"math"

	"github.com/ainka/ainka/plugins/guest"
)

var names = []string{"syscalls_per_s", "syscall_latency_p50_us", "syscall_latency_p99_us", "syscall_errors_per_s",
	"ctx_switches_per_s", "wakeups_per_s", "runq_latency_p50_us", "runq_latency_p99_us", "pgfaults_per_s",
	"pgfaults_kernel_per_s", "net_rx_pps", "net_rx_bytes_per_s", "blk_iops", "blk_read_bytes_per_s",
	"blk_write_bytes_per_s", "blk_latency_p99_us", "blk_errors_per_s", "cpu_busy_pct", "psi_cpu_some_pct",
	"psi_mem_some_pct", "psi_mem_full_pct", "psi_io_some_pct", "psi_io_full_pct", "mem_available_mb",
	"nr_running", "kernel_decisions_per_s", "syscalls_per_s", "cpu_busy_pct", "nr_running", "blk_iops"}

var mean, vari [30]float64

func init() {
	guest.Detector(guest.Info{Name: "bench30", Version: "1", Features: names, Scores: []string{"max_z"}},
		func(endNs uint64, in, scores []float64) {
			z := 0.0
			for i, x := range in {
				if math.IsNaN(x) {
					continue
				}
				d := x - mean[i]
				mean[i] += 0.05 * d
				vari[i] = 0.95 * (vari[i] + 0.05*d*d)
				if vari[i] > 0 {
					z = max(z, math.Abs(d)/math.Sqrt(vari[i]))
				}
			}
			scores[0] = 1 - math.Exp(-z/10)
		})
}

func main() {}
