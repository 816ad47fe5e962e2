package main

import (
	"encoding/json"
	"math"
	"testing"
)

func TestHistogramQuantiles(t *testing.T) {
	text := `# HELP x_seconds Time.
# TYPE x_seconds histogram
x_seconds_bucket{stage="a",le="0.001"} 0
x_seconds_bucket{stage="a",le="0.002"} 50
x_seconds_bucket{stage="a",le="0.004"} 100
x_seconds_bucket{stage="a",le="+Inf"} 100
x_seconds_sum{stage="a"} 0.2
x_seconds_count{stage="a"} 100
x_seconds_bucket{stage="b",le="0.001"} 0
x_seconds_bucket{stage="b",le="+Inf"} 0
x_seconds_sum{stage="b"} 0
x_seconds_count{stage="b"} 0
y_total 3
`
	got := histogramQuantiles(parseMetrics(text))
	want := []sample{
		{Name: "y_total", Value: 3},
		{Name: "x_seconds", Labels: `stage="a",quantile="0.5"`, Value: 0.002},
		{Name: "x_seconds", Labels: `stage="a",quantile="0.99"`, Value: 0.00396},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Name != want[i].Name || got[i].Labels != want[i].Labels || math.Abs(got[i].Value-want[i].Value) > 1e-9 {
			t.Errorf("sample %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if v := metricValue(got[1]); v != "2ms" {
		t.Errorf("median shown as %q, want 2ms", v)
	}
}

func TestSampleJSONNaN(t *testing.T) {
	b, err := json.Marshal([]sample{{Name: "s", Value: math.NaN()}, {Name: "t", Value: 1.5}})
	if err != nil || string(b) != `[{"name":"s","value":null},{"name":"t","value":1.5}]` {
		t.Errorf("%s, %v", b, err)
	}
}
