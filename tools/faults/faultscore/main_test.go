package main

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// A fault at 10–12 s that the alarm catches 500 ms in, driven by b, and
// one clean alarm at 25 s (after the 10 s of recovery).
func TestScores(t *testing.T) {
	var tap strings.Builder
	for i := 1; i <= 300; i++ {
		end, a := uint64(i)*100e6, "0.1"
		if (end > 10500e6 && end <= 12000e6) || end == 25000e6 {
			a = "0.9"
		}
		tap.WriteString(`{"end_ns":` + strconv.FormatUint(end, 10) + `,"joint_score":0.1,"alarm":` + a +
			`,"drivers":["b"],"features":{"b":{"value":1,"score":0.2}}}` + "\n")
	}
	p := t.TempDir() + "/l.json"
	os.WriteFile(p, []byte(`{"faults":[{"name":"f","start_ns":10000000000,"end_ns":12000000000}]}`), 0o644)
	var out bytes.Buffer
	if err := run([]string{"-labels", p, "-warmup", "50"}, strings.NewReader(tap.String()), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"alarm       f              windows  20 detected true  delay 600ms", "drivers [b]",
		"alarm       1/1 detected; 1 false alarms", "joint       0/1 detected; 0 false alarms"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBadCommandLine(t *testing.T) {
	for _, args := range [][]string{nil, {"-labels"}, {"-labels", "x", "extra"}, {"-nope"}} {
		if err := run(args, strings.NewReader(""), &bytes.Buffer{}); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
	p := t.TempDir() + "/l.json"
	os.WriteFile(p, []byte(`{"faults":[{"name":"a","start_ns":1,"end_ns":2}]}`), 0o644)
	if err := run([]string{"-labels", p}, strings.NewReader("not json\n"), &bytes.Buffer{}); err == nil || errors.Is(err, errUsage) {
		t.Errorf("bad tap: %v", err)
	}
	if err := run([]string{"-labels", t.TempDir() + "/missing"}, strings.NewReader(""), &bytes.Buffer{}); err == nil {
		t.Error("missing labels accepted")
	}
}
