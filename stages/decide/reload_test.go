package decide

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// policyText is a file of n policies that all write one knob, each with its
// own priority and value: the worst case for conflict detection.
func policyText(n int) []byte {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "[[policy]]\nname = \"p%d\"\ncondition = \"cpu > %d\"\naction = \"sysctl vm.swappiness = %d\"\npriority = %d\n",
			i, i%100, i%100, i%1000)
	}
	return []byte(b.String())
}

func writePolicies(t testing.TB, n int) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "p.toml")
	if err := os.WriteFile(f, policyText(n), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// loadTimes is the least CPU time (the process's, so other programs on a
// busy machine do not count) of five loads of files of each size,
// interleaved so that a busy moment hits every size alike.
func loadTimes(t testing.TB, sizes ...int) []time.Duration {
	files := make([]string, len(sizes))
	best := make([]time.Duration, len(sizes))
	for i, n := range sizes {
		files[i], best[i] = writePolicies(t, n), time.Duration(1<<62)
	}
	for range 5 {
		for i, f := range files {
			t0 := cpuTime()
			if _, err := New(Config{PolicyFile: f, Logger: quiet, MaxPolicies: 10000}); err != nil {
				t.Fatal(err)
			}
			best[i] = min(best[i], cpuTime()-t0)
		}
	}
	return best
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Loading was quadratic in the policies (4 000 on one knob: 5.3 s, 16 000:
// 7 min 43 s). Per policy, 8 000 must cost about what 1 000 cost
// (quadratic: 8×).
func TestReloadLinear(t *testing.T) {
	d := loadTimes(t, 1000, 8000)
	ratio := (float64(d[1]) / 8000) / (float64(d[0]) / 1000)
	t.Logf("1000 policies %v, 8000 policies %v: %.2f× per policy", d[0], d[1], ratio)
	if ratio > 3 {
		t.Errorf("a policy costs %.1f× more among 8000 than among 1000: not linear", ratio)
	}
}

// max_policies is checked before the file is decoded: a file of a hundred
// thousand policies, broken at the end, is refused for its size at once.
func TestReloadChecksMaxFirst(t *testing.T) {
	data := append(policyText(100_000), "[[policy]]\nname = \n"...)
	f := filepath.Join(t.TempDir(), "p.toml")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	_, err := New(Config{PolicyFile: f, Logger: quiet, MaxPolicies: 64})
	if !errors.Is(err, ErrTooManyPolicies) || !strings.Contains(err.Error(), "100001 policies, max_policies is 64") {
		t.Fatalf("err = %v", err)
	}
	t.Logf("refused in %v", time.Since(t0))
	// API policies count too: the file fits alone but not with them.
	small := writePolicies(t, 2)
	s := newStage(t, Config{MaxPolicies: 3, PolicyFile: small},
		Policy{Name: "api1", Condition: "cpu > 1", Action: "notify", Enabled: true})
	if err := os.WriteFile(small, policyText(3), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); !errors.Is(err, ErrTooManyPolicies) || len(s.Policies()) != 3 {
		t.Errorf("reload over the limit with API policies: %v, %d policies", err, len(s.Policies()))
	}
}

// Parsing and compiling happen outside the engine's lock: while a large
// file reloads, the engine answers in a small part of the reload's time.
func TestReloadDoesNotHoldTheLock(t *testing.T) {
	f := writePolicies(t, 4000)
	s := newStage(t, Config{PolicyFile: f, MaxPolicies: 10000})
	if err := os.WriteFile(f, append(policyText(4000), "# changed\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan time.Duration)
	go func() {
		t0 := time.Now()
		if err := s.Reload(); err != nil {
			t.Error(err)
		}
		done <- time.Since(t0)
	}()
	var worst time.Duration
	for {
		select {
		case took := <-done:
			t.Logf("reload %v, longest wait for the engine %v", took, worst)
			if worst > took/2 {
				t.Errorf("the engine was held %v of a %v reload", worst, took)
			}
			return
		default:
		}
		t0 := time.Now()
		s.State()
		worst = max(worst, time.Since(t0))
		time.Sleep(time.Millisecond)
	}
}

// Each policy lists at most maxConflictNames others that change its knob
// differently, never itself and never one making the same change.
func TestConflictNamesBounded(t *testing.T) {
	var ps []Policy
	for i := range 20 {
		ps = append(ps, Policy{Name: fmt.Sprintf("p%02d", i), Condition: "cpu > 1", Enabled: true, Priority: i,
			Action: fmt.Sprintf("sysctl vm.swappiness = %d", i%3)})
	}
	s := newStage(t, Config{}, ps...)
	for _, p := range s.Policies() {
		if len(p.Conflicts) != maxConflictNames || slices.Contains(p.Conflicts, p.Name) {
			t.Errorf("%s: conflicts %v", p.Name, p.Conflicts)
		}
		var mine int
		fmt.Sscanf(p.Name, "p%d", &mine)
		for _, c := range p.Conflicts {
			var other int
			fmt.Sscanf(c, "p%d", &other)
			if other%3 == mine%3 {
				t.Errorf("%s lists %s, which makes the same change", p.Name, c)
			}
		}
	}
}

// BenchmarkReload loads files of 1 000 and 8 000 policies on one knob;
// linear loading shows the same ns/policy for both:
// go test -run '^$' -bench Reload ./stages/decide
func BenchmarkReload(b *testing.B) {
	for _, n := range []int{1000, 8000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			f := writePolicies(b, n)
			for b.Loop() {
				if _, err := New(Config{PolicyFile: f, Logger: quiet, MaxPolicies: 10000}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/policy")
		})
	}
}

// A policy file nesting inline tables 2 000 deep is refused at once with
// its line (the TOML decoder alone took seconds on it).
func TestPolicyFileDeepNestingRefused(t *testing.T) {
	data := "[[policy]]\nname = \"a\"\nx = " + strings.Repeat("{a = ", 2000) + "1" + strings.Repeat("}", 2000) + "\n"
	_, err := ParseFile("p.toml", []byte(data))
	if !errors.Is(err, ErrPolicy) || !strings.HasPrefix(err.Error(), "p.toml:3:1: inline tables and arrays nested more than 16 deep") {
		t.Errorf("err = %v", err)
	}
}
