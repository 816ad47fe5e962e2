package controltest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ainka/ainka/control"
)

// PolicyArgs is a policy the daemon under test accepts, for the policy
// commands of RunEveryCommand (the real daemon parses conditions and
// actions, so the caller chooses them).
type PolicyArgs struct {
	Condition string // e.g. "cpu_busy_pct > 99"
	Action    string // e.g. "notify"
}

// RunEveryCommand runs every ainka-cli command against the daemon on
// socket, in both spellings (command word and the design's flag form), as
// a table and with --json, and checks what holds for any daemon: exit 0,
// no error output, the table's landmarks, JSON that decodes into the
// control types, and the effects (an added policy is listed, emergency
// mode shows in the status). It leaves the daemon as it found it apart
// from reset and rollback, which it also runs.
func RunEveryCommand(t *testing.T, bin, socket string, pol PolicyArgs) {
	t.Helper()
	run := func(args ...string) string {
		t.Helper()
		res := RunCLI(t, bin, socket, args...)
		if res.Code != 0 || res.Stderr != "" {
			t.Errorf("ainka-cli %q: exit %d, stderr %q", args, res.Code, res.Stderr)
		}
		return res.Stdout
	}
	decode := func(out string, v any, args ...string) {
		t.Helper()
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Errorf("ainka-cli %q: output is not the expected JSON (%v):\n%s", args, err, out)
		}
	}
	contains := func(out, want string, args ...string) {
		t.Helper()
		if !strings.Contains(out, want) {
			t.Errorf("ainka-cli %q: output lacks %q:\n%s", args, want, out)
		}
	}
	both := func(word, flag []string, check func(args []string, table, js string)) {
		t.Helper()
		for _, args := range [][]string{word, flag} {
			table := run(args...)
			jargs := append(append([]string(nil), args...), "--json")
			js := run(jargs...)
			check(args, table, js)
		}
	}

	both([]string{"status"}, []string{"--status"}, func(a []string, table, js string) {
		contains(table, "state:", a...)
		contains(table, "uptime:", a...)
		var st control.Status
		decode(js, &st, a...)
		if st.PID <= 0 || st.State == "" {
			t.Errorf("ainka-cli %q --json: no pid or state: %+v", a, st)
		}
	})
	both([]string{"metrics"}, []string{"--metrics"}, func(a []string, table, js string) {
		contains(table, "METRIC", a...)
		contains(table, "ainka_", a...)
		var ss []map[string]any
		decode(js, &ss, a...)
	})
	both([]string{"metrics", "--raw"}, []string{"--metrics", "--raw"}, func(a []string, table, js string) {
		contains(table, "ainka_", a...)
	})
	both([]string{"logs", "--since", "1h"}, []string{"--logs", "--since=1h"}, func(a []string, table, js string) {
		for _, line := range strings.Split(strings.TrimSpace(js), "\n") {
			if line == "" {
				continue
			}
			var e control.LogEntry
			decode(line, &e, a...)
		}
	})
	for i, add := range [][]string{
		{"policy", "add", "e2e_word", "--condition", pol.Condition, "--action", pol.Action, "--priority", "1"},
		{"--add-policy", "e2e_flag", "--condition", pol.Condition, "--action", pol.Action},
	} {
		name := add[2]
		if i == 1 {
			name = add[1]
		}
		contains(run(add...), "policy "+name+" added", add...)
		jname := name + "_json"
		jadd := append([]string(nil), add...)
		jadd[2-i] = jname
		var spec control.PolicySpec
		decode(run(append(jadd, "--json")...), &spec, jadd...)
		if spec.Name != jname {
			t.Errorf("ainka-cli %q --json: answered %+v", jadd, spec)
		}
	}
	both([]string{"policy", "list"}, []string{"--list-policies"}, func(a []string, table, js string) {
		contains(table, "NAME", a...)
		contains(table, "e2e_word", a...)
		var ps []control.Policy
		decode(js, &ps, a...)
		found := map[string]bool{}
		for _, p := range ps {
			found[p.Name] = true
		}
		for _, n := range []string{"e2e_word", "e2e_word_json", "e2e_flag", "e2e_flag_json"} {
			if !found[n] {
				t.Errorf("ainka-cli %q --json: policy %s not listed", a, n)
			}
		}
	})
	contains(run("policy", "remove", "e2e_word"), "policy e2e_word removed")
	contains(run("--remove-policy", "e2e_flag"), "policy e2e_flag removed")
	contains(run("policy", "remove", "e2e_word_json", "--json"), `"removed": "e2e_word_json"`)
	contains(run("--remove-policy", "e2e_flag_json", "--json"), `"removed": "e2e_flag_json"`)

	both([]string{"optimize"}, []string{"--optimize"}, func(a []string, table, js string) {
		contains(table, "dry-run:", a...)
		var r control.OptimizeResult
		decode(js, &r, a...)
	})
	emergency := func(want bool) {
		t.Helper()
		var st control.Status
		decode(run("status", "--json"), &st, "status")
		if st.Emergency != want {
			t.Errorf("status after emergency-mode %v: emergency = %v", want, st.Emergency)
		}
	}
	contains(run("emergency-mode", "on"), "emergency mode on")
	emergency(true)
	contains(run("emergency-mode", "off"), "emergency mode off")
	emergency(false)
	contains(run("--emergency-mode"), "emergency mode on")
	emergency(true)
	contains(run("--emergency-mode", "off", "--json"), `"on": false`)
	emergency(false)
	contains(run("emergency-mode", "on", "--json"), `"on": true`)
	contains(run("--emergency-mode=off"), "emergency mode off")
	emergency(false)

	both([]string{"reset"}, []string{"--reset"}, func(a []string, table, js string) {
		contains(table, "learned state cleared:", a...)
		var r control.ResetResult
		decode(js, &r, a...)
	})
	both([]string{"rollback", "--print"}, []string{"--rollback", "--print"}, func(a []string, table, js string) {
		var r control.RollbackResult
		decode(js, &r, a...)
		if r.Commands == nil {
			t.Errorf("ainka-cli %q --json: no commands list", a)
		}
	})
	both([]string{"rollback"}, []string{"--rollback"}, func(a []string, table, js string) {
		contains(table, "restored", a...)
		var r control.RollbackResult
		decode(js, &r, a...)
	})
}
