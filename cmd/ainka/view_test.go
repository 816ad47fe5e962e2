package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/control/controltest"
	"github.com/ainka/ainka/view"
)

// busyPolicy fires on every second of the cpu trace (the CPU is saturated
// there), so that the view has decisions and changes to show. The change
// is relative: an absolute target could equal the host's current value
// (another test may have set it), which is "unchanged", not shown.
func busyPolicy(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "busy.toml")
	err := os.WriteFile(p, []byte(`[[policy]]
name = "busy"
condition = "cpu_busy_pct > 50"
action = "sysctl vm.swappiness += 1"
cooldown = "1s"
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The terminal view of a replay, in a real pseudo-terminal: it shows what
// AINKA sees, thinks and would change, redraws, and q ends the replay,
// leaving the last screen in plain text.
func TestViewOnTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, runs for seconds")
	}
	bin := controltest.Build(t, "github.com/ainka/ainka/cmd/ainka", "ainka")
	trace := filepath.Join(repoRoot(t), "testdata/traces/cpu.trace")
	term := controltest.StartTerminal(t, 110, 50, fmt.Sprintf("%s replay %s --policy %s --speed 1 --repeat 100; echo EXIT=$?; sleep 60",
		bin, trace, busyPolicy(t)))
	first := term.WaitFor(60*time.Second, "AINKA  replay, advice only", "EVENTS", "page_fault", "PIPELINE", "FEATURES",
		"syscalls_per_s", "DECISIONS", "apply   busy sysctl vm.swappiness += 1: cpu_busy_pct > 50 [cpu_busy_pct=",
		"dry_run", "sysctl:vm.swappiness", "q quits")
	// Redrawn every second: the uptime moves on. The deadlines are what a
	// 2-CPU machine at load 20, with the suite under nice 10, can promise.
	up := func(s string) string { _, rest, _ := strings.Cut(s, " up "); return strings.Fields(rest + " x")[0] }
	deadline := time.Now().Add(30 * time.Second)
	for up(term.Screen()) == up(first) {
		if time.Now().After(deadline) {
			t.Fatalf("the view was not redrawn in 30 s:\n%s", term.Screen())
		}
		time.Sleep(200 * time.Millisecond)
	}
	term.Keys("q")
	// The last screen stays in plain text above the exit line; its top
	// (the "AINKA  replay" header) may have scrolled off the 50 lines.
	last := term.WaitFor(60*time.Second, "EXIT=0", "KNOBS CHANGED", "replay: ")
	if strings.Contains(last, "q quits") {
		t.Errorf("the footer stayed after quitting:\n%s", last)
	}
}

// Not a terminal: a readable summary every --summary, never JSON.
func TestViewSummaryWhenNotATerminal(t *testing.T) {
	trace := filepath.Join(repoRoot(t), "testdata/traces/cpu.trace")
	out, stderr, code := ainka("replay", trace, "--policy", busyPolicy(t), "--speed", "4", "--summary", "200ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{" replay: state ", "events/s (lost 0/s, dropped 0/s)", "most anomalous: ",
		"decision apply busy sysctl vm.swappiness += 1: cpu_busy_pct > 50", "change dry_run sysctl:vm.swappiness"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "{") {
		t.Errorf("JSON in the summary:\n%s", out)
	}
	// Without --summary, a pipe gets nothing but what was asked for.
	if out, _, _ := ainka("replay", trace); out != "" {
		t.Errorf("stdout without --summary or --tap: %q", out)
	}
}

func TestViewBadFlags(t *testing.T) {
	trace := filepath.Join(repoRoot(t), "testdata/traces/cpu.trace")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"replay", trace, "--view", "sometimes"}, `--view "sometimes": want auto, on or off`},
		{[]string{"replay", trace, "--view", "on"}, "--view on: stdout is not a terminal"},
		{[]string{"replay", trace, "--log-format", "xml"}, `--log-format "xml": want text or json`},
		{[]string{"replay", trace, "--summary", "-1s"}, "--summary -1s: must not be negative"},
		{[]string{"run", "--view", "sometimes"}, `--view "sometimes"`},
	} {
		_, stderr, code := ainka(tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and one line with %q", tc.args, code, stderr, exitUsage, tc.want)
		}
	}
}

// `ainka-cli top` against a running daemon: on a terminal it redraws the
// daemon's view until q; --once and --json print one snapshot.
func TestTopAgainstDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	sock, _ := startReplayDaemon(t, "--policy", busyPolicy(t), "--speed", "1", "--repeat", "200")
	cli := controltest.BuildCLI(t)
	term := controltest.StartTerminal(t, 120, 45, fmt.Sprintf("%s --socket %s top; echo EXIT=$?; sleep 60", cli, sock))
	term.WaitFor(60*time.Second, "AINKA  replay", "ainka-cli top "+sock, "FEATURES", "busy", "q quits")
	term.Keys("q")
	term.WaitFor(10*time.Second, "EXIT=0")

	r := controltest.RunCLI(t, cli, sock, "top", "--once")
	if r.Code != 0 || !strings.Contains(r.Stdout, "FEATURES") || !strings.Contains(r.Stdout, "EVENTS") {
		t.Errorf("top --once: exit %d, stdout:\n%s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	r = controltest.RunCLI(t, cli, sock, "--json", "top")
	var s view.Snapshot
	if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil || s.Mode != "replay" || s.Windows == 0 || len(s.Features) == 0 {
		t.Errorf("top --json: %v, mode %q, %d windows, %d features", err, s.Mode, s.Windows, len(s.Features))
	}
	r = controltest.RunCLI(t, cli, sock, "version")
	if r.Code != 0 || !strings.Contains(r.Stdout, "daemon      (devel)") || !strings.Contains(r.Stdout, "(pid ") {
		t.Errorf("version against the daemon: exit %d, stdout:\n%s", r.Code, r.Stdout)
	}
	r = controltest.RunCLI(t, cli, sock, "explain", "vm.swappiness")
	if r.Code != 0 || !strings.Contains(r.Stdout, "sysctl:vm.swappiness: AINKA holds no change of it now") ||
		!strings.Contains(r.Stdout, "dry_run") || !strings.Contains(r.Stdout, "busy    cpu_busy_pct > 50 [cpu_busy_pct=") {
		t.Errorf("explain vm.swappiness: exit %d, stdout:\n%s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	// The tuners of a daemon started as a user starts it: advice mode.
	r = controltest.RunCLI(t, cli, sock, "tuners")
	tunerRow := func(cols ...string) bool { // the columns widen with the longest tuner's name
		return regexp.MustCompile(`(?m)^` + strings.Join(cols, ` +`) + ` `).MatchString(r.Stdout)
	}
	if r.Code != 0 || !tunerRow("TUNER", "MODE") || !tunerRow("cpu", "advise") ||
		!tunerRow("readahead", "advise") || !strings.Contains(r.Stdout, "followed:  ") {
		t.Errorf("tuners against the daemon: exit %d, stdout:\n%s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	r = controltest.RunCLI(t, cli, sock, "explain", "vm.dirty_ratio")
	if r.Code != 1 || !strings.Contains(r.Stderr, "AINKA has not changed vm.dirty_ratio since it started") {
		t.Errorf("explain of an untouched knob: exit %d, stderr %q", r.Code, r.Stderr)
	}
	r = controltest.RunCLI(t, cli, sock, "top", "--interval", "1ms")
	if r.Code != 2 || !strings.Contains(r.Stderr, "--interval") {
		t.Errorf("top --interval 1ms: exit %d, stderr %q", r.Code, r.Stderr)
	}
	none := filepath.Join(t.TempDir(), "none.sock")
	r = controltest.RunCLI(t, cli, none, "top")
	if r.Code != 3 {
		t.Errorf("top without a daemon: exit %d, stderr %q; want 3", r.Code, r.Stderr)
	}
	r = controltest.RunCLI(t, cli, none, "version")
	if r.Code != 0 || !strings.Contains(r.Stdout, "daemon      not reachable") {
		t.Errorf("version without a daemon: exit %d, stdout %q", r.Code, r.Stdout)
	}
}

// Several taps on stdout: every line is one whole JSON object that names
// its stage; one tap alone keeps its plain objects.
func TestSeveralTapsNameTheirStage(t *testing.T) {
	trace := filepath.Join(repoRoot(t), "testdata/traces/cpu.trace")
	out, stderr, code := ainka("replay", trace, "--tap", "features", "--tap", "decode", "--tap", "predict")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	seen := map[string]int{}
	for i, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var o struct{ Stage string }
		if err := json.Unmarshal([]byte(l), &o); err != nil || o.Stage == "" {
			t.Fatalf("line %d is not a JSON object naming its stage (%v): %.200s", i+1, err, l)
		}
		seen[o.Stage]++
	}
	if seen["features"] == 0 || seen["predict"] != seen["features"] || seen["decode"] < 1000 {
		t.Errorf("lines per stage %v", seen)
	}
	one, _, _ := ainka("replay", trace, "--tap", "features")
	if strings.Contains(one, `"stage"`) {
		t.Errorf("a single tap names its stage: %.200s", one)
	}
}
