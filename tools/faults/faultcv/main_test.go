package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ainka/ainka/tools/faults"
)

// writeRec writes a tap of 1000 windows (a rise at 60–70 s, bursts at
// the given windows) and its labels; it returns their paths.
func writeRec(t *testing.T, name string, bursts ...int) (tap, labels string) {
	dir := t.TempDir()
	var b strings.Builder
	for i := 1; i <= 1000; i++ {
		v := 100.0 + float64(i%7)
		if i > 600 && i <= 700 {
			v += 60
		}
		for _, k := range bursts {
			if i == k {
				v += 1000
			}
		}
		fmt.Fprintf(&b, `{"end_ns":%d,"joint_score":0,"features":{"syscalls_per_s":{"value":%g,"score":0}}}`+"\n", uint64(i)*100e6, v)
	}
	tap, labels = filepath.Join(dir, name+".tap"), filepath.Join(dir, name+".labels.json")
	os.WriteFile(tap, []byte(b.String()), 0o644)
	os.WriteFile(labels, []byte(`{"faults":[{"name":"rise","start_ns":60000000000,"end_ns":70000000000}]}`), 0o644)
	return tap, labels
}

func TestCrossRecordingsCommand(t *testing.T) {
	at, al := writeRec(t, "quiet")
	bt, bl := writeRec(t, "bursty", 400, 850)
	var out bytes.Buffer
	if err := run([]string{"-grid", "narrow", at, al, bt, bl}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"held out " + at + ": chosen on the others", "held out " + bt + ":",
		"chosen on all: smooth", "default: smooth 8 factor 3", "  on " + at + ": 1/1 detected", "false alarms in"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// -grid quick -headroom: the quick grid runs, and each fault's headroom
// is reported (which feature stood out: faults.TestHeadrooms).
func TestHeadroomCommand(t *testing.T) {
	at, al := writeRec(t, "quiet")
	bt, bl := writeRec(t, "bursty", 400, 850)
	var out bytes.Buffer
	if err := run([]string{"-grid", "quick", "-headroom", at, al, bt, bl}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"headroom " + at + " rise: ", "headroom " + bt + " rise: ", "quick 4 quick_factor 6"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBadCommandLine(t *testing.T) {
	at, al := writeRec(t, "a")
	for _, args := range [][]string{nil, {at, al}, {at, al, at}, {"-grid", "huge", at, al, at, al}, {"-nope"}} {
		if err := run(args, &bytes.Buffer{}); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
	if err := run([]string{at, al, at, at}, &bytes.Buffer{}); err == nil || errors.Is(err, errUsage) {
		t.Errorf("a tap as labels: %v, want a labels error", err)
	}
	if err := run([]string{al, al, at, al}, &bytes.Buffer{}); err == nil || errors.Is(err, errUsage) {
		t.Errorf("labels as a tap: %v, want a tap error", err)
	}
	if err := run([]string{at + ".missing", al, at, al}, &bytes.Buffer{}); err == nil {
		t.Error("a missing tap accepted")
	}
}

// -joint prints each recording's joint separation; -evidence the
// probes' levels (faults.TestLevels checks the figures).
func TestEvidenceCommand(t *testing.T) {
	at, al := writeRec(t, "quiet")
	bt, bl := writeRec(t, "bursty", 400, 850)
	var out bytes.Buffer
	if err := run([]string{"-grid", "quick", "-joint", at, al, bt, bl}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"joint " + at + ": clean p99", "of 1 ≥ 2×"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// The test taps have syscalls_per_s only: the probes' features are
	// not there, and that is an error naming the feature.
	if err := run([]string{"-grid", "quick", "-evidence", at, al, bt, bl}, &out); !errors.Is(err, faults.ErrFeature) || !strings.Contains(err.Error(), "cpu_busy_pct") {
		t.Errorf("probes on a tap without their features: %v, want ErrFeature naming cpu_busy_pct", err)
	}
}

// -decode, one per recording: the clean windows of a second in which
// another job ran (39.1–40.1 s of the bursty recording) are left out of
// its count (490 of 500 clean windows: 0.82 minutes); a count of -decode
// other than one per recording, or without its sampling, is a usage
// error.
func TestDecodeCommand(t *testing.T) {
	at, al := writeRec(t, "quiet")
	bt, bl := writeRec(t, "bursty", 400, 850)
	dir := t.TempDir()
	none, busy := filepath.Join(dir, "none.decode"), filepath.Join(dir, "busy.decode")
	os.WriteFile(none, []byte(`{"kind":"host_sample","ts_ns":100000000,"comm":"host"}`+"\n"), 0o644)
	var b strings.Builder
	b.WriteString(`{"kind":"host_sample","ts_ns":100000000,"comm":"host"}` + "\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&b, `{"kind":"sched_switch","ts_ns":%d,"comm":"go","next_comm":"swapper/0"}`+"\n", 40_050_000_000+i*1000)
	}
	os.WriteFile(busy, []byte(b.String()), 0o644)
	var out bytes.Buffer
	if err := run([]string{"-grid", "narrow", "-decode", none + ":48", "-decode", busy + ":48", at, al, bt, bl}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  on " + at + ": 1/1 detected", "0.83 clean minutes", "0.82 clean minutes"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, args := range [][]string{{"-decode", none + ":48", at, al, bt, bl}, {"-decode", none, "-decode", busy, at, al, bt, bl},
		{"-decode", none + ":0", "-decode", busy + ":48", at, al, bt, bl}} {
		if err := run(args, &bytes.Buffer{}); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
	if err := run([]string{"-decode", none + ":48", "-decode", dir + "/missing:48", at, al, bt, bl}, &bytes.Buffer{}); err == nil || errors.Is(err, errUsage) {
		t.Errorf("missing decode tap: %v", err)
	}
}
