package main

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// testTap is 30 s of windows: a fault at 10–12 s that the alarm catches
// 500 ms in, driven by b, and one clean alarm at 25 s (after the 10 s of
// recovery).
func testTap() *strings.Builder {
	var tap strings.Builder
	for i := 1; i <= 300; i++ {
		end, a := uint64(i)*100e6, "0.1"
		if (end > 10500e6 && end <= 12000e6) || end == 25000e6 {
			a = "0.9"
		}
		tap.WriteString(`{"end_ns":` + strconv.FormatUint(end, 10) + `,"joint_score":0.1,"alarm":` + a +
			`,"drivers":["b"],"features":{"b":{"value":1,"score":0.2}}}` + "\n")
	}
	return &tap
}

func TestScores(t *testing.T) {
	tap := testTap()
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

// With -decode and -sched: the windows of a second in which another job
// ran are counted, and the clean alarm at 25 s, inside that second, is
// not a false alarm without them.
func TestForeign(t *testing.T) {
	tap := testTap()
	dir := t.TempDir()
	os.WriteFile(dir+"/l.json", []byte(`{"faults":[{"name":"f","start_ns":10000000000,"end_ns":12000000000}]}`), 0o644)
	dec := `{"kind":"host_sample","ts_ns":100000000,"comm":"host"}` + "\n"
	for i := 0; i < 10; i++ {
		dec += `{"kind":"sched_switch","ts_ns":` + strconv.Itoa(24_200_000_000+i*1000) + `,"comm":"go","next_comm":"swapper/1"}` + "\n"
	}
	os.WriteFile(dir+"/d.json", []byte(dec), 0o644)
	var out bytes.Buffer
	if err := run([]string{"-labels", dir + "/l.json", "-warmup", "50", "-decode", dir + "/d.json", "-sched", "48"}, strings.NewReader(tap.String()), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"other jobs' windows: clean 10 of", "f 0 of 20;", "alarm       1/1 detected; 1 false alarms",
		"alarm       without other jobs: 0 false alarms"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, args := range [][]string{{"-labels", dir + "/l.json", "-decode", dir + "/d.json"}, {"-labels", dir + "/l.json", "-sched", "48"}} {
		if err := run(args, strings.NewReader(tap.String()), &bytes.Buffer{}); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
	if err := run([]string{"-labels", dir + "/l.json", "-decode", dir + "/missing", "-sched", "48"}, strings.NewReader(tap.String()), &bytes.Buffer{}); err == nil {
		t.Error("missing decode tap accepted")
	}
}
