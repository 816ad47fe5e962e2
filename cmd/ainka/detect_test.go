package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func detectTestFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDetect(t *testing.T) {
	// One sample a second, a repeating pattern and one spike.
	var in strings.Builder
	in.WriteString("timestamp,value\n")
	for i := 0; i < 2000; i++ {
		v := 10 + i%7
		if i == 1500 {
			v = 500
		}
		in.WriteString("2015-01-01 ")
		in.WriteString(detectPad(i/3600%24) + ":" + detectPad(i/60%60) + ":" + detectPad(i%60))
		in.WriteString("," + detectItoa(v) + "\n")
	}
	inPath := detectTestFile(t, "in.csv", in.String())
	outPath := filepath.Join(t.TempDir(), "out.csv")
	var stdout, stderr bytes.Buffer
	if code := runDetect([]string{"--input", inPath, "--output", outPath}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got, _ := os.ReadFile(outPath)
	lines := strings.Split(strings.TrimSpace(string(got)), "\n")
	if lines[0] != "timestamp,value,anomaly_score" || len(lines) != 2001 {
		t.Fatalf("header %q, %d lines", lines[0], len(lines))
	}
	// The spike must be an alarm at NAB's corpus threshold (about 0.68,
	// docs/predict.md), and the repeating pattern must not: after warm-up
	// (NAB's 15 % probation) every other row stays below half of it.
	scores := make([]float64, len(lines)-1)
	for i, l := range lines[1:] {
		v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ',')+1:], 64)
		if err != nil {
			t.Fatalf("row %d %q: %v", i+1, l, err)
		}
		scores[i] = v
	}
	if !strings.HasPrefix(lines[1501], "2015-01-01 00:25:00,500,") || scores[1500] < 0.68 {
		t.Errorf("spike row %q: want a score of at least 0.68", lines[1501])
	}
	for i := 300; i < len(scores); i++ {
		if i != 1500 && scores[i] >= 0.34 {
			t.Errorf("row %d %q: score %v on the repeating pattern, want below 0.34", i+1, lines[i+1], scores[i])
		}
	}
	if lines[1] != "2015-01-01 00:00:00,10,0" {
		// the first sample only initialises the model
		t.Errorf("first row %q", lines[1])
	}
}

func detectPad(n int) string {
	if n < 10 {
		return "0" + detectItoa(n)
	}
	return detectItoa(n)
}

func detectItoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestDetectBadInput(t *testing.T) {
	cases := []struct {
		name, content, want string
	}{
		{"empty", "", "line 1: empty file"},
		{"bad header", "time,val\n2015-01-01 00:00:00,1\n", "line 1: bad header"},
		{"bad number", "timestamp,value\n2015-01-01 00:00:00,1\n2015-01-01 00:05:00,abc\n", `line 3: bad value "abc"`},
		{"bad timestamp", "timestamp,value\nyesterday,1\n", `line 2: bad timestamp "yesterday"`},
		{"extra column", "timestamp,value\n2015-01-01 00:00:00,1,2\n", "line 2: want 2 columns"},
		{"no rows", "timestamp,value\n", "no data rows"},
	}
	for _, c := range cases {
		in := detectTestFile(t, "in.csv", c.content)
		var stdout, stderr bytes.Buffer
		code := runDetect([]string{"--input", in, "--output", filepath.Join(t.TempDir(), "o.csv")}, &stdout, &stderr)
		msg := stderr.String()
		if code != exitFailure || !strings.Contains(msg, c.want) || strings.Count(msg, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and one line containing %q", c.name, code, msg, exitFailure, c.want)
		}
	}
	for _, args := range [][]string{
		{},
		{"--input", "x.csv"},
		{"--output", "y.csv"},
		{"--input", "x", "--output", "y", "--detector", "nope"},
		{"--input", "x", "--output", "y", "--params", "alpha=7"},
		{"--bogus"},
		{"--input", "x", "--output", "y", "extra"},
	} {
		var stdout, stderr bytes.Buffer
		if code := runDetect(args, &stdout, &stderr); code != exitUsage || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want %d and one line", args, code, stderr.String(), exitUsage)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := runDetect([]string{"--input", "/nonexistent/in.csv", "--output", "-"}, &stdout, &stderr); code != exitFailure {
		t.Errorf("missing input: exit %d", code)
	}
}
