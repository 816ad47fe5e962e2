package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ainka/ainka/tools/nab"
)

func TestBadArguments(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-detector", "nope"}, 2, "unknown detector"},
		{[]string{"-params", "alpha=9"}, 2, "alpha"},
		{[]string{"-data", t.TempDir()}, 1, "combined_windows.json"},
		{[]string{"-bogus"}, 2, "bogus"},
	} {
		var out, errb bytes.Buffer
		if code := run(c.args, &out, &errb); code != c.code || !strings.Contains(errb.String(), c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", c.args, code, errb.String(), c.code, c.msg)
		}
	}
}

func TestScoresSubset(t *testing.T) {
	dir := nab.TestData(t)
	var out, errb bytes.Buffer
	if code := run([]string{"-data", dir, "-subset", "odd"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "20 files") || !strings.Contains(out.String(), "\ncorpus ") {
		t.Errorf("output:\n%s", out.String())
	}
	errb.Reset()
	if code := run([]string{"-data", dir, "-subset", "third"}, &out, &errb); code != 2 {
		t.Errorf("-subset third: exit %d", code)
	}
	errb.Reset()
	if code := run([]string{"-data", dir, "-results", t.TempDir()}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "no such file") {
		t.Errorf("-results of an empty dir: exit %d, %q", code, errb.String())
	}
}

func TestGridSettings(t *testing.T) {
	got := strings.Join(gridSettings("a=1", "b=1|2; c=3"), " ")
	if want := "a=1,b=1,c=3 a=1,b=2,c=3"; got != want {
		t.Errorf("grid: %q, want %q", got, want)
	}
	if got := strings.Join(gridSettings("", "b=1|2"), " "); got != "b=1 b=2" {
		t.Errorf("grid without base: %q", got)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"-cv", "-grid", "alpha=9", "-data", nab.TestData(t)}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "alpha") {
		t.Errorf("bad grid value: exit %d, %q", code, errb.String())
	}
}
