package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// Row is one line of the summary table: a scenario's primary metric
// under one arm (or one oracle value).
type Row struct {
	Scenario  string  `json:"scenario"`
	Arm       string  `json:"arm"`
	KnobValue string  `json:"knob_value,omitempty"`
	Best      bool    `json:"best,omitempty"` // the oracle's best static value
	Metric    string  `json:"metric"`
	Unit      string  `json:"unit"`
	Summary   Summary `json:"summary"`
	Busy      int     `json:"busy_runs"`
	Failed    int     `json:"failed_runs"`
	// Gains: how many times better than untuned / than the oracle's best
	// (> 1 better, < 1 worse, whichever the metric's direction; 0 when
	// there is nothing to compare with).
	GainVsUntuned float64 `json:"gain_vs_untuned"`
	GainVsOracle  float64 `json:"gain_vs_oracle"`
}

// evaluate summarizes the runs and lists the failures: an arm that left
// the host changed, a run that failed, and the ainka arm making a
// scenario's primary metric worse than untuned by more than its noise
// band.
func (r *Report) evaluate() (rows []Row, failures, inconclusive []string) {
	r.PhaseBest = nil
	for _, si := range r.Scenarios {
		r.PhaseBest = append(r.PhaseBest, r.TimeToBest(si.Name)...)
		spec, _ := Lookup(si.Name)
		srows := r.scenarioRows(spec)
		rows = append(rows, srows...)
		fail, inc := verdict(spec, srows)
		failures = append(failures, fail...)
		inconclusive = append(inconclusive, inc...)
	}
	for _, run := range r.Runs {
		if len(run.HostDiff) > 0 {
			failures = append(failures, fmt.Sprintf("%s × %s%s left the host changed: %s", run.Scenario, run.Arm, valueSuffix(run.KnobValue), strings.Join(run.HostDiff, "; ")))
		}
		if run.Error != "" && run.Error != "interrupted" {
			failures = append(failures, fmt.Sprintf("%s × %s%s failed: %s", run.Scenario, run.Arm, valueSuffix(run.KnobValue), run.Error))
		}
	}
	return rows, failures, inconclusive
}

func (r *Report) scenarioRows(spec Spec) []Row {
	var rows []Row
	add := func(arm, value string) {
		row := Row{Scenario: spec.Name, Arm: arm, KnobValue: value, Metric: spec.Primary.Name, Unit: spec.Primary.Unit}
		var vals []float64
		for _, run := range r.Runs {
			if run.Scenario != spec.Name || run.Arm != arm || run.KnobValue != value {
				continue
			}
			if v, ok := run.Primary(spec); ok {
				vals = append(vals, v)
			} else {
				row.Failed++
			}
			if run.Load.Busy {
				row.Busy++
			}
		}
		if len(vals) == 0 && row.Failed == 0 {
			return
		}
		row.Summary = summarize(vals)
		rows = append(rows, row)
	}
	for _, a := range r.Arms {
		if a != ArmOracle {
			add(a, "")
			continue
		}
		for _, v := range spec.Knob.Values {
			add(a, v)
		}
		for _, v := range spec.Knob.QuickValues {
			if !contains(spec.Knob.Values, v) {
				add(a, v)
			}
		}
	}
	base, best := math.NaN(), math.NaN()
	bestIdx := -1
	for i, row := range rows {
		if row.Arm == ArmUntuned {
			base = row.Summary.Median
		}
		if row.Arm == ArmOracle && row.Summary.N > 0 && (bestIdx < 0 || gain(spec.Primary, row.Summary.Median, best) > 1) {
			best, bestIdx = row.Summary.Median, i
		}
	}
	if bestIdx >= 0 {
		rows[bestIdx].Best = true
	}
	for i := range rows {
		rows[i].GainVsUntuned = finite(gain(spec.Primary, rows[i].Summary.Median, base))
		rows[i].GainVsOracle = finite(gain(spec.Primary, rows[i].Summary.Median, best))
	}
	return rows
}

// noiseBand is the relative difference below which two medians of the
// scenario are not told apart: the scenario's floor, or the untuned
// runs' relative IQR when there are enough of them to measure it, or,
// with the two untuned runs that bracket a quick run, their relative
// range (the host's drift across the runs in between).
func noiseBand(spec Spec, untuned Summary) float64 {
	band := spec.Primary.NoiseFloor
	switch {
	case untuned.Median == 0:
	case untuned.N >= 3:
		band = math.Max(band, untuned.IQR()/math.Abs(untuned.Median))
	case untuned.N == 2:
		band = math.Max(band, (untuned.Max-untuned.Min)/math.Abs(untuned.Median))
	}
	return band
}

// verdict compares the ainka arm with untuned. Worse beyond the noise
// band (or, for a MustImprove metric, not better beyond it) is a failure,
// unless most runs of either arm were busy: then it is reported as
// inconclusive.
func verdict(spec Spec, rows []Row) (fail, inconclusive []string) {
	var untuned, ainka *Row
	for i := range rows {
		switch rows[i].Arm {
		case ArmUntuned:
			untuned = &rows[i]
		case ArmAinka:
			ainka = &rows[i]
		}
	}
	if untuned == nil || ainka == nil || untuned.Summary.N == 0 || ainka.Summary.N == 0 {
		return nil, nil
	}
	band := noiseBand(spec, untuned.Summary)
	var msg string
	switch {
	case spec.Primary.MustImprove && ainka.GainVsUntuned > 1+band:
		return nil, nil
	case spec.Primary.MustImprove:
		msg = fmt.Sprintf("%s: ainka does not make %s better than untuned beyond the noise band: %.4g vs %.4g %s (gain %.2f×, needs > %.2f×: band ±%.0f%%)",
			spec.Name, spec.Primary.Name, ainka.Summary.Median, untuned.Summary.Median, spec.Primary.Unit, ainka.GainVsUntuned, 1+band, band*100)
	case ainka.GainVsUntuned >= 1/(1+band):
		return nil, nil
	default:
		msg = fmt.Sprintf("%s: ainka makes %s worse than untuned beyond the noise band: %.4g vs %.4g %s (gain %.2f×, band ±%.0f%%)",
			spec.Name, spec.Primary.Name, ainka.Summary.Median, untuned.Summary.Median, spec.Primary.Unit, ainka.GainVsUntuned, band*100)
	}
	if 2*ainka.Busy > ainka.Summary.N || 2*untuned.Busy > untuned.Summary.N {
		return nil, []string{msg + " — but the host was busy during most runs: no verdict"}
	}
	return []string{msg}, nil
}

// WriteTable prints the summary table.
func (r *Report) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tarm\tmetric\tmedian\tIQR\tn\t×untuned\t×oracle\tbusy\t")
	for _, row := range r.Summary {
		arm := row.Arm
		if row.KnobValue != "" {
			arm += " " + row.KnobValue
			if row.Best {
				arm += " *"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s (%s)\t%.4g\t%.3g\t%d\t%s\t%s\t%d\t\n", row.Scenario, arm, row.Metric, row.Unit,
			row.Summary.Median, row.Summary.IQR(), row.Summary.N, ratio(row.GainVsUntuned), ratio(row.GainVsOracle), row.Busy)
	}
	tw.Flush()
	fmt.Fprintln(w, "×untuned, ×oracle: times better than untuned / than the best static value (* in the oracle rows); > 1 is better.")
}

// finite maps NaN and ±Inf (no runs to compare) to 0, which JSON can carry.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

func ratio(g float64) string {
	if g == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", g)
}
