package config

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Nested inline tables made loading cubic (10 KB: 43 s; the decoder alone
// takes 6 s on 12 KB): they are refused before decoding, with their line.
func TestDeepNestingRefused(t *testing.T) {
	for _, text := range []string{
		"[daemon]\nx = " + strings.Repeat("{a = ", 2000) + "1" + strings.Repeat("}", 2000) + "\n",
		"[daemon]\nx = " + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + "\n",
	} {
		_, err := Parse("c.toml", []byte(text))
		var ce *Error
		if !errors.As(err, &ce) || !errors.Is(err, ErrSyntax) || ce.Line != 2 || !strings.Contains(err.Error(), "nested more than 16 deep") {
			t.Errorf("err = %.200v", err)
		}
	}
}

// An unknown key holding a table is one problem, not one per nested key.
func TestUnknownTableReportedOnce(t *testing.T) {
	_, err := Parse("c.toml", []byte("[daemon]\nx = {a = {b = {c = 1}}, d = 2}\ny = 1\n"))
	want := "c.toml:2: daemon.x: unknown key\nc.toml:3: daemon.y: unknown key"
	if err == nil || err.Error() != want {
		t.Errorf("err =\n%v\nwant\n%s", err, want)
	}
}

// Thousands of problems are listed up to maxErrors, then counted.
func TestErrorsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("[daemon]\n")
	for i := range 500 {
		fmt.Fprintf(&b, "zz%d = 1\n", i)
	}
	_, err := Parse("c.toml", []byte(b.String()))
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors+1 || lines[0] != "c.toml:2: daemon.zz0: unknown key" || lines[maxErrors] != "c.toml: and 480 more problems" {
		t.Errorf("%d lines: %q … %q", len(lines), lines[0], lines[len(lines)-1])
	}
	if !errors.Is(err, ErrUnknownKey) {
		t.Errorf("not ErrUnknownKey: %v", err)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Locating each error's line scanned the whole file again: quadratic in
// the problems. Per unknown key, 8 000 must cost about what 1 000 cost.
func TestLocateLinear(t *testing.T) {
	text := func(n int) []byte {
		var b strings.Builder
		b.WriteString("[daemon]\n")
		for i := range n {
			fmt.Fprintf(&b, "zz%d = 1\n", i)
		}
		return []byte(b.String())
	}
	sizes := []int{1000, 8000}
	best := []time.Duration{1 << 62, 1 << 62}
	for range 3 {
		for i, n := range sizes {
			data := text(n)
			t0 := cpuTime()
			if _, err := Parse("c.toml", data); !errors.Is(err, ErrUnknownKey) {
				t.Fatal(err)
			}
			best[i] = min(best[i], cpuTime()-t0)
		}
	}
	ratio := (float64(best[1]) / 8000) / (float64(best[0]) / 1000)
	t.Logf("1000 unknown keys %v, 8000 %v: %.2f× per key", best[0], best[1], ratio)
	if ratio > 3 {
		t.Errorf("a key costs %.1f× more among 8000 than among 1000: not linear", ratio)
	}
}

// FuzzParse: any text gives a Config or errors that are *Error values
// naming a line inside the text; never a panic or a hang.
// go test -run '^$' -fuzz FuzzParse ./config
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"[daemon]\ndry_run = true\n", "[daemon]\nx = {a = {b = 1}}\n", "[telemetry]\nsampling = {syscall = 2}\n",
		"[daemon\n", "a = \"\"\"\n{\n\"\"\"\n", "[[daemon]]\n", "[policy]\nmax_policies = 0\n", "= 1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := Parse("f.toml", []byte(s))
		if err == nil {
			if cfg == nil {
				t.Fatal("no config and no error")
			}
			return
		}
		lines := strings.Count(s, "\n") + 2
		for _, e := range unjoin(err) {
			var ce *Error
			if !errors.As(e, &ce) || ce.Line < 0 || ce.Line > lines {
				t.Fatalf("Parse(%q): %v is not an *Error inside the text", s, e)
			}
		}
	})
}
