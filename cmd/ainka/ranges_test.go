package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// checkFeatureRanges reports every value of a features tap line that no
// window can produce: a percentage outside [0,100], a negative rate, size
// or latency, a p50 above its p99, a "full" PSI share above its "some"
// share, a window that ends before it starts. A feature without a rule is
// itself an error, so that a new feature gets a range when it is added.
func checkFeatureRanges(line string) []string {
	var v map[string]any
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		return []string{fmt.Sprintf("not JSON: %v", err)}
	}
	var bad []string
	nums := map[string]float64{}
	for k, x := range v {
		f, ok := x.(float64)
		if x == nil {
			continue // NaN: no source in this window
		}
		if es, isList := x.([]any); isList && (k == "tasks" || k == "devices") {
			bad = append(bad, entityRanges(k, es)...)
			continue
		}
		if !ok {
			bad = append(bad, fmt.Sprintf("%s: %v is not a number", k, x))
			continue
		}
		nums[k] = f
		if msg := featureRange(k, f); msg != "" {
			bad = append(bad, msg)
		}
	}
	if nums["end_ns"] <= nums["start_ns"] {
		bad = append(bad, fmt.Sprintf("end_ns %v not after start_ns %v", nums["end_ns"], nums["start_ns"]))
	}
	for k, f := range nums {
		if base, ok := strings.CutSuffix(k, "_p50_us"); ok {
			if p99, ok := nums[base+"_p99_us"]; ok && f > p99 {
				bad = append(bad, fmt.Sprintf("%s %v above %s_p99_us %v", k, f, base, p99))
			}
		}
		if base, ok := strings.CutSuffix(k, "_full_pct"); ok {
			if some, ok := nums[base+"_some_pct"]; ok && f > some {
				bad = append(bad, fmt.Sprintf("%s %v above %s_some_pct %v", k, f, base, some))
			}
		}
	}
	return bad
}

// featureRange checks one value against the rule its name implies.
func featureRange(k string, f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Sprintf("%s: %v", k, f)
	}
	switch {
	case strings.HasSuffix(k, "_pct"):
		if f < 0 || f > 100 {
			return fmt.Sprintf("%s: %v outside [0,100]", k, f)
		}
	case strings.HasSuffix(k, "_per_s"), strings.HasSuffix(k, "_pps"), strings.HasSuffix(k, "_iops"),
		strings.HasSuffix(k, "_us"), strings.HasSuffix(k, "_mb"), strings.HasSuffix(k, "_ns"), k == "nr_running":
		if f < 0 {
			return fmt.Sprintf("%s: %v is negative", k, f)
		}
	default:
		return fmt.Sprintf("%s: no range rule for this feature (add one to checkFeatureRanges)", k)
	}
	return ""
}

// entityRanges checks the per-entity tables: every field a number in its
// range (a task's CPU share is at most the CPUs it can run on: 128).
func entityRanges(table string, es []any) []string {
	var bad []string
	for i, e := range es {
		m, ok := e.(map[string]any)
		if !ok {
			bad = append(bad, fmt.Sprintf("%s[%d]: not an object", table, i))
			continue
		}
		for k, x := range m {
			f, ok := x.(float64)
			name := fmt.Sprintf("%s[%d].%s", table, i, k)
			switch {
			case k == "comm":
				if _, ok := x.(string); !ok {
					bad = append(bad, name+": not a string")
				}
			case !ok:
				bad = append(bad, fmt.Sprintf("%s: %v is not a number", name, x))
			case k == "pid" || k == "runs" || k == "ios" || k == "major" || k == "minor" || k == "iops":
				if f < 0 || f != math.Trunc(f) && k != "iops" {
					bad = append(bad, fmt.Sprintf("%s: %v is not a count", name, f))
				}
			case k == "cpu_share" && (f < 0 || f > 128), k == "seq_ratio" && (f < 0 || f > 1):
				bad = append(bad, fmt.Sprintf("%s: %v out of range", name, f))
			case k == "cpu_share" || k == "seq_ratio" || k == "mean_request_kib":
				if f < 0 {
					bad = append(bad, fmt.Sprintf("%s: %v is negative", name, f))
				}
			default:
				if msg := featureRange(name, f); msg != "" {
					bad = append(bad, msg)
				}
			}
		}
	}
	return bad
}
