package main

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/ainka/ainka/tools/faults"
)

// probes are the summaries -evidence prints: the lasting level (minimum
// over 0.8 s and 3 s) of the host features the missed faults should
// move, and the mean over 2 s of the sampled syscall error count.
var probes = []struct {
	feature string
	level   faults.Level
	span    int
}{
	{"cpu_busy_pct", faults.Min, 8}, {"cpu_busy_pct", faults.Min, 30},
	{"nr_running", faults.Min, 8}, {"psi_cpu_some_pct", faults.Min, 8},
	{"psi_mem_some_pct", faults.Min, 8}, {"syscall_errors_per_s", faults.Mean, 20},
	{"blk_iops", faults.Min, 8}, {"net_rx_pps", faults.Min, 8},
}

// evidence prints, per recording and probe, the largest summarised
// value on the clean windows and each fault's as a multiple of it
// (faults.Levels): above 1, the fault's raw values reached a level no
// clean stretch did.
func evidence(out io.Writer, recs []faults.Recording, o faults.Options) error {
	for _, r := range recs {
		o.Exclude = r.Exclude
		for _, p := range probes {
			e, err := faults.Levels(r.Ws, r.Names, r.Labels, o, p.feature, p.level, p.span)
			if err != nil {
				return err
			}
			var each []string
			for k, f := range r.Labels {
				if !math.IsNaN(e.Inside[k]) {
					each = append(each, fmt.Sprintf("%s %.2f×", f.Name, e.Show(k)))
				}
			}
			fmt.Fprintf(out, "evidence %s %s %s %d: clean max %.4g; %s\n", r.Name, p.feature, p.level, p.span, e.Clean, strings.Join(each, ", "))
		}
	}
	return nil
}

// joint prints, per recording, each fault's joint-score maximum over
// the clean windows' 99th percentile (issue 15 asks for ≥ 2).
func joint(out io.Writer, recs []faults.Recording, o faults.Options) {
	o.Threshold = faults.JointAlarm
	for _, r := range recs {
		o.Exclude = r.Exclude
		rep := faults.Score(r.Ws, r.Names, r.Labels, faults.Joint, o)
		var each []string
		n, twice := 0, 0
		for _, f := range rep.Faults {
			if f.Windows == 0 {
				continue
			}
			n++
			ratio := f.MaxScore / rep.CleanP99
			if ratio >= 2 {
				twice++
			}
			each = append(each, fmt.Sprintf("%s %.2f×", f.Name, ratio))
		}
		fmt.Fprintf(out, "joint %s: clean p99 %.3f; max inside / clean p99: %s (%d of %d ≥ 2×)\n", r.Name, rep.CleanP99, strings.Join(each, ", "), twice, n)
	}
}
