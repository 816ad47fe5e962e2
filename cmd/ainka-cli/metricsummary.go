package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ainka/ainka/control"
)

// MarshalJSON writes the value as null when it is NaN or infinite (a
// feature missing in the last window), which JSON cannot hold.
func (s sample) MarshalJSON() ([]byte, error) {
	type plain struct {
		Name   string   `json:"name"`
		Labels string   `json:"labels,omitempty"`
		Value  *float64 `json:"value"`
	}
	p := plain{Name: s.Name, Labels: s.Labels}
	if !math.IsNaN(s.Value) && !math.IsInf(s.Value, 0) {
		p.Value = &s.Value
	}
	return json.Marshal(p)
}

// histogram is one Prometheus histogram series: its cumulative buckets.
type histogram struct {
	name, labels string
	les, counts  []float64
}

// histogramQuantiles replaces each Prometheus histogram's _bucket, _sum
// and _count lines by its median and 99th percentile (labels gain
// quantile="0.5" / "0.99"), estimated as histogram_quantile does: linearly
// within the bucket the rank falls in. A histogram without observations
// is left out.
func histogramQuantiles(in []sample) []sample {
	bases := map[string]bool{}
	for _, s := range in {
		if b, ok := strings.CutSuffix(s.Name, "_bucket"); ok {
			bases[b] = true
		}
	}
	var out []sample
	var hs []*histogram
	byKey := map[string]*histogram{}
	for _, s := range in {
		b, isBucket := strings.CutSuffix(s.Name, "_bucket")
		if !isBucket {
			sum, _ := strings.CutSuffix(s.Name, "_sum")
			count, _ := strings.CutSuffix(s.Name, "_count")
			if !bases[sum] && !bases[count] {
				out = append(out, s)
			}
			continue
		}
		labels, le := splitLE(s.Labels)
		h := byKey[b+"{"+labels]
		if h == nil {
			h = &histogram{name: b, labels: labels}
			byKey[b+"{"+labels] = h
			hs = append(hs, h)
		}
		v, err := strconv.ParseFloat(le, 64) // ParseFloat reads "+Inf"
		if err == nil {
			h.les, h.counts = append(h.les, v), append(h.counts, s.Value)
		}
	}
	for _, h := range hs {
		for _, q := range []float64{0.5, 0.99} {
			v := h.quantile(q)
			if math.IsNaN(v) {
				continue
			}
			l := fmt.Sprintf(`quantile="%g"`, q)
			if h.labels != "" {
				l = h.labels + "," + l
			}
			out = append(out, sample{Name: h.name, Labels: l, Value: v})
		}
	}
	return out
}

// splitLE takes the le label out of a label list.
func splitLE(labels string) (rest, le string) {
	var keep []string
	for _, l := range strings.Split(labels, ",") {
		if v, ok := strings.CutPrefix(l, "le="); ok {
			le = strings.Trim(v, `"`)
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, ","), le
}

// quantile is the q-quantile of cumulative buckets (ascending le, the last
// +Inf), NaN without observations; a rank in the +Inf bucket answers the
// highest finite bound, as Prometheus does.
func (h *histogram) quantile(q float64) float64 {
	n := len(h.counts)
	if n == 0 || h.counts[n-1] == 0 {
		return math.NaN()
	}
	rank := q * h.counts[n-1]
	for i := range h.counts {
		if h.counts[i] < rank {
			continue
		}
		if math.IsInf(h.les[i], 1) {
			if i == 0 {
				return math.NaN()
			}
			return h.les[i-1]
		}
		lo, below := 0.0, 0.0
		if i > 0 {
			lo, below = h.les[i-1], h.counts[i-1]
		}
		if h.counts[i] == below {
			return h.les[i]
		}
		return lo + (h.les[i]-lo)*(rank-below)/(h.counts[i]-below)
	}
	return math.NaN()
}

// seconds formats a duration metric's value: 12µs, 3.4ms, 1.2s.
func seconds(v float64) string {
	return time.Duration(v * float64(time.Second)).Round(time.Duration(max(1, v*1e9/1000))).String()
}

// knobs lists the knobs AINKA holds changed: original → current, by which
// policy, since when, and why.
func (o *output) knobs(ks []control.KnobChange) error {
	if len(ks) == 0 {
		return nil
	}
	fmt.Fprintln(o.w)
	tw := o.table()
	fmt.Fprintln(tw, "KNOB\tORIGINAL → NOW\tBY\tSINCE\tWHY")
	for _, k := range ks {
		fmt.Fprintf(tw, "%s\t%s → %s\t%s\t%s\t%s\n", k.Knob, k.Original, k.Current, k.Policy, k.Since, k.Why)
	}
	return tw.Flush()
}
