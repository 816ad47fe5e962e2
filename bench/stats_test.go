package bench

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	s := summarize([]float64{5, 1, 4, 2, 3})
	if s.N != 5 || s.Median != 3 || s.Q1 != 2 || s.Q3 != 4 || s.IQR() != 2 || s.Min != 1 || s.Max != 5 {
		t.Fatalf("summarize = %+v", s)
	}
	if e := summarize(nil); e.N != 0 || e.Median != 0 {
		t.Fatalf("empty summary = %+v", e)
	}
	q := quantiles101([]float64{10, 20})
	if len(q) != 101 || q[0] != 10 || q[50] != 15 || q[100] != 20 {
		t.Fatalf("quantiles101 = %v", q)
	}
}

func TestGainDirection(t *testing.T) {
	lower := MetricSpec{LowerIsBetter: true}
	if g := gain(lower, 50, 100); g != 2 {
		t.Fatalf("half the latency: gain %v, want 2", g)
	}
	if g := gain(MetricSpec{}, 50, 100); g != 0.5 {
		t.Fatalf("half the throughput: gain %v, want 0.5", g)
	}
	if finite(math.Inf(1)) != 0 || finite(math.NaN()) != 0 {
		t.Fatal("finite must map Inf and NaN to 0")
	}
}

func TestCheckToolsNamesPackages(t *testing.T) {
	missing := func(name string) (string, error) {
		if name == "fio" || name == "cyclictest" || strings.HasPrefix(name, "/opt/none/") {
			return "", errMissingForTest
		}
		return "/usr/bin/" + name, nil
	}
	err := checkTools([]string{"fio", "cyclictest", "ip"}, missing)
	if err == nil {
		t.Fatal("no error for missing tools")
	}
	for _, want := range []string{"cyclictest, fio", "apt-get install fio rt-tests"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	err = checkTools([]string{"/opt/none/ainka"}, missing)
	if err == nil || !strings.Contains(err.Error(), "build /opt/none/ainka with `make build` (or give --ainka PATH)") {
		t.Errorf("missing ainka binary: %v", err)
	}
	if err := checkTools([]string{"ip"}, missing); err != nil {
		t.Fatalf("present tool reported missing: %v", err)
	}
}

var errMissingForTest = errors.New("not found")

func TestResolveRejectsUnknownNames(t *testing.T) {
	for _, tc := range []struct {
		opt  Options
		want string
	}{
		{Options{Scenarios: []string{"cpu-contention", "disk-party"}, Repeats: 1}, `unknown scenario "disk-party" (known: cpu-contention, memory-pressure, readahead, tcp-lossy, tcp-lossy-cubic, writeback)`},
		{Options{Arms: []string{"untuned", "magic"}, Repeats: 1}, `unknown arm "magic"`},
		{Options{Repeats: 0}, "repeats must be at least 1"},
		{Options{Scenarios: []string{"cpu-contention"}, OracleValues: []string{"idle", "nice5"}, Repeats: 1},
			`unknown oracle value "nice5" for cpu-contention (its hog scheduling: nice0, nice10, nice19, batch, idle)`},
		{Options{Scenarios: []string{"cpu-contention", "tcp-lossy"}, OracleValues: []string{"idle"}, Repeats: 1},
			`unknown oracle value "idle" for tcp-lossy`},
	} {
		_, _, err := resolve(tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("resolve(%+v) = %v, want %q", tc.opt, err, tc.want)
		}
	}
	specs, arms, err := resolve(Options{Repeats: 1})
	if err != nil || len(specs) != 5 || len(arms) != len(Arms) {
		t.Fatalf("defaults: %d scenarios, %v, %v", len(specs), arms, err)
	}
}

func TestHogCommand(t *testing.T) {
	for knob, want := range map[string]string{
		"": "stress-ng", "nice0": "stress-ng", "nice19": "nice -n 19 stress-ng", "idle": "chrt --idle 0 stress-ng", "batch": "chrt --batch 0 stress-ng",
	} {
		got, err := hogCommand(knob, []string{"stress-ng"})
		if err != nil || strings.Join(got, " ") != want {
			t.Errorf("hogCommand(%q) = %v, %v; want %q", knob, got, err, want)
		}
	}
	if _, err := hogCommand("realtime", nil); err == nil {
		t.Error("unknown hog scheduling accepted")
	}
}
