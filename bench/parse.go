package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// stressOpsPerSec reads bogo-ops-per-second-real-time of a stressor from
// stress-ng's --yaml report.
func stressOpsPerSec(path, stressor string) (float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("stress-ng report: %w", err)
	}
	in := false
	for _, l := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "- stressor:") {
			in = strings.TrimSpace(strings.TrimPrefix(t, "- stressor:")) == stressor
		}
		if in && strings.HasPrefix(t, "bogo-ops-per-second-real-time:") {
			return strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(t, "bogo-ops-per-second-real-time:")), 64)
		}
	}
	return 0, fmt.Errorf("stress-ng report %s: no bogo-ops-per-second-real-time for %s", path, stressor)
}

// histogram is cyclictest's latency histogram: counts per microsecond,
// plus the samples beyond its range (overflows) and the maximum seen.
type histogram struct {
	counts    []uint64
	overflows uint64
	max       float64
}

// parseHistogram reads a one-thread cyclictest --histfile.
func parseHistogram(b []byte) (*histogram, error) {
	h := &histogram{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") {
			f := strings.Fields(l)
			switch {
			case strings.HasPrefix(l, "# Max Latencies:") && len(f) >= 4:
				h.max, _ = strconv.ParseFloat(f[3], 64)
			case strings.HasPrefix(l, "# Histogram Overflows:") && len(f) >= 4:
				h.overflows, _ = strconv.ParseUint(f[3], 10, 64)
			}
			continue
		}
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		us, err1 := strconv.Atoi(f[0])
		n, err2 := strconv.ParseUint(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("cyclictest histogram: bad line %q", l)
		}
		for len(h.counts) <= us {
			h.counts = append(h.counts, 0)
		}
		h.counts[us] += n
	}
	var total uint64
	for _, c := range h.counts {
		total += c
	}
	if total+h.overflows == 0 {
		return nil, fmt.Errorf("cyclictest histogram: no samples")
	}
	return h, nil
}

// quantile is the q-quantile in µs; samples past the histogram's range
// count as its maximum.
func (h *histogram) quantile(q float64) float64 {
	var total uint64
	for _, c := range h.counts {
		total += c
	}
	total += h.overflows
	rank := uint64(math.Ceil(q * float64(total)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for us, c := range h.counts {
		seen += c
		if seen >= rank {
			return float64(us)
		}
	}
	return h.max
}

func (h *histogram) quantiles101() []float64 {
	out := make([]float64, 101)
	for i := range out {
		out[i] = h.quantile(float64(i) / 100)
	}
	out[100] = math.Max(out[100], h.max)
	return out
}

func parseLatency(b []byte) (*LatencyResult, error) {
	var r LatencyResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("latency helper output: %w", err)
	}
	if r.N == 0 || len(r.Quantiles) != 101 {
		return nil, fmt.Errorf("latency helper output: no samples")
	}
	return &r, nil
}
