package bench

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// BestFraction is how close to the best static setting a phase's
// throughput must come to count as having reached it.
const BestFraction = 0.9

// PhaseBest is how long after a phase change an arm's throughput first
// reached BestFraction of the best static setting's for that kind of
// phase (the oracle's best median): the cost of a phase change, and what a
// tuner that adapts should shorten. Runs whose phase never reached it
// count as the phase's length and are counted in Missed.
type PhaseBest struct {
	Scenario string  `json:"scenario"`
	Arm      string  `json:"arm"`
	Phase    int     `json:"phase"`
	Kind     string  `json:"kind"`
	BestMiBs float64 `json:"best_mib_s"`  // the oracle's best median for this kind
	BestKnob string  `json:"best_knob"`   // its knob value
	Median   float64 `json:"median_s"`    // over the arm's runs
	MiBs     float64 `json:"mib_s"`       // the arm's median throughput in this phase, over its runs
	Runs     int     `json:"runs"`        // runs with this phase
	Missed   int     `json:"missed_runs"` // runs that never reached it
}

// phaseKinds returns the phases of a readahead run's figures: index →
// kind, from the phaseN_KIND_mib_s values.
func phaseKinds(v map[string]float64) map[int]string {
	out := map[int]string{}
	for k := range v {
		rest, ok := strings.CutPrefix(k, "phase")
		if !ok || !strings.HasSuffix(rest, "_mib_s") {
			continue
		}
		num, kind, ok := strings.Cut(strings.TrimSuffix(rest, "_mib_s"), "_")
		if i, err := strconv.Atoi(num); ok && err == nil {
			out[i] = kind
		}
	}
	return out
}

// bestStatic returns, per kind of phase, the oracle value whose runs had
// the highest median throughput in that kind, and that median.
func (r *Report) bestStatic(scenario string) map[string]struct {
	mibs float64
	knob string
} {
	per := map[string]map[string][]float64{} // kind → knob → phase throughputs
	for _, run := range r.Runs {
		if run.Scenario != scenario || run.Arm != ArmOracle || run.Figures == nil {
			continue
		}
		for i, kind := range phaseKinds(run.Figures.Values) {
			if per[kind] == nil {
				per[kind] = map[string][]float64{}
			}
			v := run.Figures.Values[fmt.Sprintf("phase%d_%s_mib_s", i, kind)]
			per[kind][run.KnobValue] = append(per[kind][run.KnobValue], v)
		}
	}
	best := map[string]struct {
		mibs float64
		knob string
	}{}
	for kind, byKnob := range per {
		for knob, vals := range byKnob {
			if m := summarize(vals).Median; m > best[kind].mibs {
				best[kind] = struct {
					mibs float64
					knob string
				}{m, knob}
			}
		}
	}
	return best
}

// timeToReach is the time from the phase's start until the series first
// reaches level within [start, end], and whether it did.
func timeToReach(series []Point, start, end, level float64) (float64, bool) {
	for _, p := range series {
		if p.T >= start && p.T <= end+1e-9 && p.V >= level {
			return p.T - start, true
		}
	}
	return end - start, false
}

// TimeToBest computes PhaseBest for every phase after the first of every
// non-oracle arm of a scenario with phases (readahead). It is empty when
// the oracle did not run: the best static setting is what it measures.
func (r *Report) TimeToBest(scenario string) []PhaseBest {
	best := r.bestStatic(scenario)
	if len(best) == 0 {
		return nil
	}
	type key struct {
		arm   string
		phase int
	}
	acc := map[key]*PhaseBest{}
	times, mibs := map[key][]float64{}, map[key][]float64{}
	for _, run := range r.Runs {
		if run.Scenario != scenario || run.Arm == ArmOracle || run.Figures == nil {
			continue
		}
		v := run.Figures.Values
		for i, kind := range phaseKinds(v) {
			b, ok := best[kind]
			end, hasEnd := v[fmt.Sprintf("phase%d_end_s", i)]
			if i == 0 || !ok || !hasEnd {
				continue
			}
			k := key{run.Arm, i}
			if acc[k] == nil {
				acc[k] = &PhaseBest{Scenario: scenario, Arm: run.Arm, Phase: i, Kind: kind, BestMiBs: b.mibs, BestKnob: b.knob}
			}
			t, reached := timeToReach(run.Figures.Series["MiB/s"], v[fmt.Sprintf("phase%d_start_s", i)], end, BestFraction*b.mibs)
			times[k] = append(times[k], t)
			mibs[k] = append(mibs[k], v[fmt.Sprintf("phase%d_%s_mib_s", i, kind)])
			acc[k].Runs++
			if !reached {
				acc[k].Missed++
			}
		}
	}
	out := make([]PhaseBest, 0, len(acc))
	for k, pb := range acc {
		pb.Median, pb.MiBs = summarize(times[k]).Median, summarize(mibs[k]).Median
		out = append(out, *pb)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Arm != out[j].Arm {
			return armOrder(out[i].Arm) < armOrder(out[j].Arm)
		}
		return out[i].Phase < out[j].Phase
	})
	return out
}

// armOrder sorts arms as the suite lists them.
func armOrder(arm string) int {
	for i, a := range Arms {
		if a == arm {
			return i
		}
	}
	return len(Arms)
}

// WriteTimeToBest prints the time-to-best table of every scenario that
// has one.
func (r *Report) WriteTimeToBest(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := false
	for _, pb := range r.PhaseBest {
		if !header {
			fmt.Fprintln(tw, "scenario\tarm\tphase\tbest static (MiB/s)\tarm (MiB/s)\t×best\ttime to best (s)\treached\t")
			header = true
		}
		fmt.Fprintf(tw, "%s\t%s\t%d %s\t%.4g at %s\t%.4g\t%.2f\t%.2f\t%d/%d\t\n", pb.Scenario, pb.Arm, pb.Phase, pb.Kind,
			pb.BestMiBs, pb.BestKnob, pb.MiBs, finite(pb.MiBs/pb.BestMiBs), finite(pb.Median), pb.Runs-pb.Missed, pb.Runs)
	}
	tw.Flush()
	if header {
		fmt.Fprintf(w, "arm (MiB/s): the arm's median throughput in that phase over its runs; ×best: that over the best static setting's (goal for ainka: ≥ 0.9).\n")
		fmt.Fprintf(w, "time to best: from a phase change until the 250 ms throughput first reaches %.0f %% of the best static setting's median for that kind of phase (the phase's length when it never does).\n", 100*BestFraction)
	}
}
