package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/control/controltest"
	"github.com/ainka/ainka/stages/tune"
)

// cliBin is the ainka-cli binary, built once for all the tests.
var cliBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ainka-cli-test")
	if err != nil {
		panic(err)
	}
	cliBin, err = controltest.BuildTo(dir, "github.com/ainka/ainka/cmd/ainka-cli", "ainka-cli")
	if err != nil {
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestEveryCommandBothSpellings runs the built binary against a control
// server over a real unix socket: every command, in its word and flag
// spellings, as a table and as JSON.
func TestEveryCommandBothSpellings(t *testing.T) {
	bin := cliBin
	ring := control.NewLogRing(0)
	log := slog.New(ring.Handler(slog.NewTextHandler(io.Discard, nil)))
	log.Info("pipeline started", "mode", "replay", "stages", 7)
	log.Warn("policy fired", "policy", "cpu_high", "value", 97.5)
	fake := controltest.NewFakeDaemon()
	s := controltest.StartServer(t, fake, control.Options{Logs: ring})
	sock := s.SocketPath()

	type check struct {
		word, flag []string
		text       []string // substrings of the table output
		json       func(t *testing.T, out []byte)
	}
	decode := func(v any) func(*testing.T, []byte) {
		return func(t *testing.T, out []byte) {
			t.Helper()
			if err := json.Unmarshal(out, v); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
		}
	}
	checks := []check{
		{word: []string{"status"}, flag: []string{"--status"},
			text: []string{"state:          optimizing (for 42s)", "mode:           replay",
				"learning:       900 windows, 20 of 26 anomaly detectors past warm-up", "knobs changed:  1",
				"sysctl:vm.swappiness  60 → 30         swap-less  2026-11-28T03:00:00Z  psi_mem_some_pct > 10 [psi_mem_some_pct=12.5]", "dry-run:        yes", "kernel module:  not loaded",
				"STAGE   IN/S", "decode  ", "KIND     SEEN  EMITTED  RING LOST", "syscall  5000  4990     10"},
			json: func(t *testing.T, out []byte) {
				var st control.Status
				decode(&st)(t, out)
				if st.State != "optimizing" || len(st.Stages) != 2 || st.UptimeSec < 89 || len(st.Knobs) != 1 || st.Learning.Windows != 900 {
					t.Errorf("status JSON = %+v", st)
				}
			}},
		{word: []string{"metrics"}, flag: []string{"--metrics"},
			text: []string{"METRIC", "ainka_stage_in_total", "stage=decode", "12345", "process_resident_memory_bytes", "32.0 MiB"},
			json: func(t *testing.T, out []byte) {
				var ss []sample
				decode(&ss)(t, out)
				if len(ss) != 6 || ss[0].Name != "ainka_events_total" {
					t.Errorf("metrics JSON = %+v", ss)
				}
			}},
		{word: []string{"metrics", "--raw"}, flag: []string{"--metrics", "--raw"},
			text: []string{"# TYPE ainka_stage_in_total counter", `ainka_stage_in_total{stage="decode"} 12345`}},
		{word: []string{"logs"}, flag: []string{"--logs"},
			text: []string{"INFO  pipeline started mode=replay stages=7", "WARN  policy fired policy=cpu_high value=97.5"},
			json: func(t *testing.T, out []byte) {
				lines := strings.Split(strings.TrimSpace(string(out)), "\n")
				var e control.LogEntry
				if len(lines) != 2 || json.Unmarshal([]byte(lines[1]), &e) != nil || e.Msg != "policy fired" {
					t.Errorf("logs JSON = %s", out)
				}
			}},
		{word: []string{"logs", "--since", "1h"}, flag: []string{"--logs", "--since=1h"},
			text: []string{"pipeline started"},
			json: func(t *testing.T, out []byte) {
				var e control.LogEntry
				if err := json.Unmarshal([]byte(strings.Split(string(out), "\n")[0]), &e); err != nil || e.Attrs["mode"] != "replay" {
					t.Errorf("logs --since JSON = %s", out)
				}
			}},
		{word: []string{"policy", "add", "mem_low", "--condition", "mem_available_mb < 100", "--action", "drop_caches", "--priority", "7"},
			flag: []string{"--add-policy", "mem_low2", "--condition", "cpu>90", "--action", "reduce_freq"},
			text: []string{"added"},
			json: func(t *testing.T, out []byte) {
				var p control.PolicySpec
				decode(&p)(t, out)
				if p.Name == "" || p.Action == "" {
					t.Errorf("policy add JSON = %+v", p)
				}
			}},
		{word: []string{"policy", "list"}, flag: []string{"--list-policies"},
			text: []string{"PRIORITY  ENABLED  STATE   SOURCE  EFFECTIVENESS  FIRED  CONDITION", "10        yes      active  file    0.40           3      cpu_busy_pct > 90 for 5s  reduce_freq", "mem_low_b "},
			json: func(t *testing.T, out []byte) {
				var ps []control.Policy
				decode(&ps)(t, out)
				if len(ps) == 0 || ps[0].Name != "cpu_high" {
					t.Errorf("policy list JSON = %+v", ps)
				}
			}},
		{word: []string{"optimize"}, flag: []string{"--optimize"},
			text: []string{"state: optimizing, dry-run: yes", "POLICY", "cpu_high  yes      reduce_freq  cpufreq:policy0/energy_performance_preference: performance -> balance_power  no       cpu_busy_pct 97.5 > 90"},
			json: func(t *testing.T, out []byte) {
				var r control.OptimizeResult
				decode(&r)(t, out)
				if len(r.Decisions) != 2 {
					t.Errorf("optimize JSON = %+v", r)
				}
			}},
		{word: []string{"emergency-mode", "on"}, flag: []string{"--emergency-mode"},
			text: []string{"emergency mode on"},
			json: func(t *testing.T, out []byte) {
				var r control.EmergencyRequest
				decode(&r)(t, out)
				if !r.On {
					t.Errorf("emergency JSON = %s", out)
				}
			}},
		{word: []string{"emergency-mode", "off"}, flag: []string{"--emergency-mode", "off"},
			text: []string{"emergency mode off"},
			json: func(t *testing.T, out []byte) {
				if strings.TrimSpace(string(out)) != "{\n  \"on\": false\n}" {
					t.Errorf("emergency off JSON = %s", out)
				}
			}},
		{word: []string{"reset"}, flag: []string{"--reset"},
			text: []string{"learned state cleared: ewma baselines, forecasters", "KNOB                  FROM  TO", "sysctl:vm.swappiness  10    60"},
			json: func(t *testing.T, out []byte) {
				var r control.ResetResult
				decode(&r)(t, out)
				if len(r.Reverted) != 1 {
					t.Errorf("reset JSON = %+v", r)
				}
			}},
		{word: []string{"rollback"}, flag: []string{"--rollback"},
			text: []string{"restored:", "sysctl:vm.swappiness  10    60"},
			json: func(t *testing.T, out []byte) {
				var r control.RollbackResult
				decode(&r)(t, out)
				if len(r.Restored) != 1 {
					t.Errorf("rollback JSON = %+v", r)
				}
			}},
		// tuners has no flag spelling (it is not in the design's list).
		{word: []string{"tuners"}, flag: []string{"tuners"},
			text: []string{"regime:    r2 (2 known)", "followed:  12 tasks, 1 block devices",
				"cpu        act     settled  cpu/stress-ng-cpu/batch (pid:4242)  19       4       +46%  5",
				"  cpu: batch, confidence 0.91: stress-ng-cpu pid 4242: 0.98 CPU", "pid:4242  batch  0.91",
				"r2      cpu/stress-ng-cpu/batch  19    +46%           4"},
			json: func(t *testing.T, out []byte) {
				var st tune.Status
				decode(&st)(t, out)
				if len(st.Tuners) != 2 || st.Tuners[0].Setting != "19" || len(st.Best) != 1 || len(st.Entities) != 1 {
					t.Errorf("tuners JSON = %+v", st)
				}
			}},
		{word: []string{"rollback", "--print"}, flag: []string{"--rollback", "--print"},
			text: []string{"sysctl -w vm.swappiness=60"},
			json: func(t *testing.T, out []byte) {
				var r control.RollbackResult
				decode(&r)(t, out)
				if len(r.Commands) != 1 {
					t.Errorf("rollback --print JSON = %+v", r)
				}
			}},
	}
	n := 0
	for _, c := range checks {
		for _, args := range [][]string{c.word, c.flag} {
			for _, asJSON := range []bool{false, true} {
				a := append([]string(nil), args...)
				// Each add needs a new name.
				switch {
				case a[0] == "policy" && a[1] == "add":
					n++
					a[2] += "_" + string(rune('a'+n))
				case a[0] == "--add-policy":
					n++
					a[1] += "_" + string(rune('a'+n))
				}
				if asJSON {
					a = append(a, "--json")
				}
				res := controltest.RunCLI(t, bin, sock, a...)
				if res.Code != 0 {
					t.Errorf("ainka-cli %q: exit %d\nstderr: %s", a, res.Code, res.Stderr)
					continue
				}
				if res.Stderr != "" {
					t.Errorf("ainka-cli %q wrote to stderr: %s", a, res.Stderr)
				}
				if asJSON {
					if c.json != nil {
						c.json(t, []byte(res.Stdout))
					} else if a[0] != "metrics" && a[0] != "--metrics" {
						t.Errorf("no JSON check for %q", a)
					}
					continue
				}
				for _, want := range c.text {
					if !strings.Contains(res.Stdout, want) {
						t.Errorf("ainka-cli %q output lacks %q:\n%s", a, want, res.Stdout)
					}
				}
			}
		}
	}
	// The daemon saw each command; the emergency flag form turned it on.
	calls := strings.Join(fake.CallLog(), ",")
	for _, want := range []string{"SetEmergency true", "SetEmergency false", "Rollback(print)", "Reset", "Optimize", "AddPolicy mem_low_"} {
		if !strings.Contains(calls, want) {
			t.Errorf("daemon never got %q (calls: %s)", want, calls)
		}
	}
}

func TestPolicyRemove(t *testing.T) {
	bin := cliBin
	s := controltest.StartServer(t, controltest.NewFakeDaemon(), control.Options{})
	res := controltest.RunCLI(t, bin, "", "--socket", s.SocketPath(), "policy", "add", "x", "--condition", "cpu>1", "--action", "reduce_freq")
	if res.Code != 0 {
		t.Fatalf("add: %+v", res)
	}
	res = controltest.RunCLI(t, bin, "", "--socket="+s.SocketPath(), "policy", "remove", "x")
	if res.Code != 0 || res.Stdout != "policy x removed\n" {
		t.Fatalf("remove: %+v", res)
	}
	controltest.RunCLI(t, bin, s.SocketPath(), "policy", "add", "y", "--condition", "cpu>1", "--action", "a")
	res = controltest.RunCLI(t, bin, s.SocketPath(), "--remove-policy", "y", "--json")
	if res.Code != 0 || strings.TrimSpace(res.Stdout) != "{\n  \"removed\": \"y\"\n}" {
		t.Fatalf("--remove-policy --json: %+v", res)
	}
	// Removing it again: the daemon's error, exit 1.
	res = controltest.RunCLI(t, bin, s.SocketPath(), "--remove-policy", "y")
	if res.Code != 1 || res.Stderr != "ainka-cli policy remove: policy \"y\": not found\n" {
		t.Fatalf("remove missing: %+v", res)
	}
}

func TestExitCodes(t *testing.T) {
	bin := cliBin
	// 3: not running, with the message the operator needs.
	missing := filepath.Join(t.TempDir(), "none.sock")
	res := controltest.RunCLI(t, bin, missing, "status")
	want := "ainka daemon is not running (no socket at " + missing + "): start it with 'ainka run'\n"
	if res.Code != 3 || res.Stderr != want {
		t.Errorf("not running: code %d stderr %q, want 3 %q", res.Code, res.Stderr, want)
	}
	// The default socket path, from neither flag nor environment.
	cmd := exec.Command(bin, "status")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if _, statErr := os.Stat(control.DefaultSocketPath); statErr != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 || !strings.Contains(stderr.String(), "no socket at /run/ainka/ainka.sock") {
			t.Errorf("default socket: %v %q", err, stderr.String())
		}
	}

	// 1: the daemon answered with an error.
	fake := controltest.NewFakeDaemon()
	s := controltest.StartServer(t, fake, control.Options{})
	res = controltest.RunCLI(t, bin, s.SocketPath(), "policy", "add", "bad", "--condition", "cpu ?? 1", "--action", "a")
	if res.Code != 1 || !strings.Contains(res.Stderr, "column 5") {
		t.Errorf("invalid policy: %+v", res)
	}
	// 2: usage.
	for _, args := range [][]string{
		{}, {"frobnicate"}, {"--frobnicate"}, {"status", "extra"}, {"policy"}, {"policy", "edit"},
		{"policy", "add", "x"}, {"policy", "add", "x", "--condition", "a>1", "--action", "b", "--priority", "high"},
		{"policy", "add", "x", "--condition", "a>1", "--action", "b", "--cooldown", "later"},
		{"policy", "add", "x", "--condition"}, {"policy", "remove"}, {"emergency-mode"}, {"emergency-mode", "maybe"},
		{"logs", "--since", "yesterday"}, {"metrics", "--raw=yes"}, {"rollback", "--dry"}, {"--socket"},
	} {
		res := controltest.RunCLI(t, bin, s.SocketPath(), args...)
		if res.Code != 2 || !strings.HasPrefix(res.Stderr, "ainka-cli: ") || !strings.Contains(res.Stderr, "--help") {
			t.Errorf("ainka-cli %q: code %d stderr %q, want 2 and a usage line", args, res.Code, res.Stderr)
		}
	}
	// 0 and the usage on stdout for help.
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		res := controltest.RunCLI(t, bin, s.SocketPath(), args...)
		if res.Code != 0 || !strings.Contains(res.Stdout, "exit codes:") {
			t.Errorf("%q: %+v", args, res)
		}
	}
}

// TestFollowLogs runs `logs -f`, logs while it follows, and stops it with
// SIGINT, which is a normal end (exit 0).
func TestFollowLogs(t *testing.T) {
	bin := cliBin
	ring := control.NewLogRing(0)
	log := slog.New(ring.Handler(nil))
	s := controltest.StartServer(t, controltest.NewFakeDaemon(), control.Options{Logs: ring})
	cmd := exec.Command(bin, "--socket", s.SocketPath(), "logs", "-f")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "followed line") && time.Now().Before(deadline) {
		log.Info("followed line", "n", 1)
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if !strings.Contains(stdout.String(), "INFO  followed line n=1") {
		t.Fatalf("followed output = %q", stdout.String())
	}
	if err != nil {
		t.Fatalf("logs -f after SIGINT: %v", err)
	}
}

// TestParse covers the argument parser in process, where a table of cases
// is cheap.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args []string
		name string
		pos  string
		flag string
	}{
		{[]string{"--add-policy=cpu_high", "--condition", "cpu>90", "--action", "reduce_freq"}, "policy add", "cpu_high", "condition=cpu>90"},
		{[]string{"--condition", "cpu>90", "--add-policy", "n", "--action=x"}, "policy add", "n", "action=x"},
		{[]string{"--emergency-mode"}, "emergency-mode", "on", ""},
		{[]string{"--emergency-mode=off"}, "emergency-mode", "off", ""},
		{[]string{"logs", "-f", "--since", "5m"}, "logs", "", "since=5m"},
		{[]string{"--logs", "--follow"}, "logs", "", "follow=true"},
		{[]string{"policy", "remove", "--", "-odd-name"}, "policy remove", "-odd-name", ""},
	} {
		inv, err := parseCommand(tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		k, v, _ := strings.Cut(tc.flag, "=")
		if inv.name != tc.name || strings.Join(inv.pos, " ") != tc.pos || (k != "" && inv.flags[k] != v) {
			t.Errorf("%q = %s %q %v", tc.args, inv.name, inv.pos, inv.flags)
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"status", "--bogus"}, &out, &errb); code != 2 || errb.String() != "ainka-cli: status: unknown flag --bogus\nRun 'ainka-cli --help' for usage.\n" {
		t.Errorf("unknown flag: %d %q", code, errb.String())
	}
}

func TestMetricsParser(t *testing.T) {
	ss := parseMetrics("# HELP x\nfoo{a=\"b c\",d=\"e\"} 1.5 1700000000\nbar 3\nbad{ 1\nbaz NaN\n\nqux notanumber\n")
	if len(ss) != 3 || ss[0].Labels != `a="b c",d="e"` || ss[0].Value != 1.5 || ss[1].Name != "bar" {
		t.Fatalf("parsed %+v", ss)
	}
}

// TestRunEveryCommandHelper runs the helper the end-to-end test uses
// against the real daemon, here against the fake.
func TestRunEveryCommandHelper(t *testing.T) {
	bin := cliBin
	ring := control.NewLogRing(0)
	slog.New(ring.Handler(nil)).Info("hello", "k", "v")
	s := controltest.StartServer(t, controltest.NewFakeDaemon(), control.Options{Logs: ring})
	controltest.RunEveryCommand(t, bin, s.SocketPath(), controltest.PolicyArgs{Condition: "cpu_busy_pct > 99", Action: "notify"})
}
