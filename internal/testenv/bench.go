package testenv

import (
	"os"
	"sort"
	"testing"
	"time"
)

// BenchCheckEnv turns the benchmark guards on (make bench-check sets it).
const BenchCheckEnv = "AINKA_BENCH_CHECK"

// BenchRatio guards the code under bench against a baseline measured in
// the same run (a copy of the same bytes, a CRC of them): bench(n) and
// base(n) each do n operations. They run back to back in 21 short rounds
// (a few ms each) and the test fails when the median of the rounds'
// ratios bench/base passes limit. Pairs of short rounds share whatever the
// machine does to them, and the median drops the rounds a preemption hit:
// on a shared 2-vCPU VM, where absolute figures move by 2x, the ratio
// holds. The limits sit about twice above the ratios measured there.
func BenchRatio(t *testing.T, limit float64, bench, base func(n int)) {
	t.Helper()
	if os.Getenv(BenchCheckEnv) == "" {
		t.Skipf("set %s=1 (make bench-check) to run the benchmark guards", BenchCheckEnv)
	}
	LoadsCPU(t) // none of our timing or load tests runs meanwhile
	n := 1
	for timed(base, n) < 2*time.Millisecond && n < 1<<30 {
		n *= 2
	}
	bench(n) // warm up both
	var ratios []float64
	for range 21 {
		b, r := timed(bench, n), timed(base, n)
		ratios = append(ratios, float64(b)/float64(max(r, 1)))
	}
	sort.Float64s(ratios)
	med := ratios[len(ratios)/2]
	t.Logf("%d ops a round; ratio to the baseline: median %.2f, quartiles %.2f..%.2f, limit %.2g",
		n, med, ratios[len(ratios)/4], ratios[3*len(ratios)/4], limit)
	if med > limit {
		t.Errorf("ratio to the baseline %.2f passes its limit %.1f: a regression", med, limit)
	}
}

func timed(f func(int), n int) time.Duration {
	t0 := time.Now()
	f(n)
	return time.Since(t0)
}
