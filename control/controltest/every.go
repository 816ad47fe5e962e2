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
	e := &every{t: t, bin: bin, socket: socket}
	e.readCommands()
	e.policyCommands(pol)
	e.changeCommands()
}

// every runs ainka-cli commands for RunEveryCommand and checks them.
type every struct {
	t           *testing.T
	bin, socket string
}

// run runs one command, which must succeed quietly, and returns its output.
func (e *every) run(args ...string) string {
	e.t.Helper()
	res := RunCLI(e.t, e.bin, e.socket, args...)
	if res.Code != 0 || res.Stderr != "" {
		e.t.Errorf("ainka-cli %q: exit %d, stderr %q", args, res.Code, res.Stderr)
	}
	return res.Stdout
}

func (e *every) decode(out string, v any, args ...string) {
	e.t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Errorf("ainka-cli %q: output is not the expected JSON (%v):\n%s", args, err, out)
	}
}

func (e *every) contains(out, want string, args ...string) {
	e.t.Helper()
	if !strings.Contains(out, want) {
		e.t.Errorf("ainka-cli %q: output lacks %q:\n%s", args, want, out)
	}
}

// both runs a command in its word and flag spellings, each as a table
// and with --json, and checks each pair of outputs.
func (e *every) both(word, flag []string, check func(args []string, table, js string)) {
	e.t.Helper()
	for _, args := range [][]string{word, flag} {
		table := e.run(args...)
		jargs := append(append([]string(nil), args...), "--json")
		js := e.run(jargs...)
		check(args, table, js)
	}
}

// readCommands are the commands that change nothing.
func (e *every) readCommands() {
	e.t.Helper()
	e.both([]string{"status"}, []string{"--status"}, func(a []string, table, js string) {
		e.contains(table, "state:", a...)
		e.contains(table, "uptime:", a...)
		var st control.Status
		e.decode(js, &st, a...)
		if st.PID <= 0 || st.State == "" {
			e.t.Errorf("ainka-cli %q --json: no pid or state: %+v", a, st)
		}
	})
	e.both([]string{"metrics"}, []string{"--metrics"}, func(a []string, table, js string) {
		e.contains(table, "METRIC", a...)
		e.contains(table, "ainka_", a...)
		var ss []map[string]any
		e.decode(js, &ss, a...)
	})
	e.both([]string{"metrics", "--raw"}, []string{"--metrics", "--raw"}, func(a []string, table, js string) {
		e.contains(table, "ainka_", a...)
	})
	e.both([]string{"logs", "--since", "1h"}, []string{"--logs", "--since=1h"}, func(a []string, table, js string) {
		for _, line := range strings.Split(strings.TrimSpace(js), "\n") {
			if line == "" {
				continue
			}
			var le control.LogEntry
			e.decode(line, &le, a...)
		}
	})
}

// policyCommands add, list and remove policies.
func (e *every) policyCommands(pol PolicyArgs) {
	e.t.Helper()
	for i, add := range [][]string{
		{"policy", "add", "e2e_word", "--condition", pol.Condition, "--action", pol.Action, "--priority", "1"},
		{"--add-policy", "e2e_flag", "--condition", pol.Condition, "--action", pol.Action},
	} {
		name := add[2]
		if i == 1 {
			name = add[1]
		}
		e.contains(e.run(add...), "policy "+name+" added", add...)
		jname := name + "_json"
		jadd := append([]string(nil), add...)
		jadd[2-i] = jname
		var spec control.PolicySpec
		e.decode(e.run(append(jadd, "--json")...), &spec, jadd...)
		if spec.Name != jname {
			e.t.Errorf("ainka-cli %q --json: answered %+v", jadd, spec)
		}
	}
	e.both([]string{"policy", "list"}, []string{"--list-policies"}, func(a []string, table, js string) {
		e.contains(table, "NAME", a...)
		e.contains(table, "e2e_word", a...)
		var ps []control.Policy
		e.decode(js, &ps, a...)
		found := map[string]bool{}
		for _, p := range ps {
			found[p.Name] = true
		}
		for _, n := range []string{"e2e_word", "e2e_word_json", "e2e_flag", "e2e_flag_json"} {
			if !found[n] {
				e.t.Errorf("ainka-cli %q --json: policy %s not listed", a, n)
			}
		}
	})
	e.contains(e.run("policy", "remove", "e2e_word"), "policy e2e_word removed")
	e.contains(e.run("--remove-policy", "e2e_flag"), "policy e2e_flag removed")
	e.contains(e.run("policy", "remove", "e2e_word_json", "--json"), `"removed": "e2e_word_json"`)
	e.contains(e.run("--remove-policy", "e2e_flag_json", "--json"), `"removed": "e2e_flag_json"`)
}

// changeCommands optimize, switch emergency mode, reset and roll back.
func (e *every) changeCommands() {
	e.t.Helper()
	e.both([]string{"optimize"}, []string{"--optimize"}, func(a []string, table, js string) {
		e.contains(table, "dry-run:", a...)
		var r control.OptimizeResult
		e.decode(js, &r, a...)
	})
	emergency := func(want bool) {
		e.t.Helper()
		var st control.Status
		e.decode(e.run("status", "--json"), &st, "status")
		if st.Emergency != want {
			e.t.Errorf("status after emergency-mode %v: emergency = %v", want, st.Emergency)
		}
	}
	e.contains(e.run("emergency-mode", "on"), "emergency mode on")
	emergency(true)
	e.contains(e.run("emergency-mode", "off"), "emergency mode off")
	emergency(false)
	e.contains(e.run("--emergency-mode"), "emergency mode on")
	emergency(true)
	e.contains(e.run("--emergency-mode", "off", "--json"), `"on": false`)
	emergency(false)
	e.contains(e.run("emergency-mode", "on", "--json"), `"on": true`)
	e.contains(e.run("--emergency-mode=off"), "emergency mode off")
	emergency(false)

	e.both([]string{"reset"}, []string{"--reset"}, func(a []string, table, js string) {
		e.contains(table, "learned state cleared:", a...)
		var r control.ResetResult
		e.decode(js, &r, a...)
	})
	e.both([]string{"rollback", "--print"}, []string{"--rollback", "--print"}, func(a []string, table, js string) {
		var r control.RollbackResult
		e.decode(js, &r, a...)
		if r.Commands == nil {
			e.t.Errorf("ainka-cli %q --json: no commands list", a)
		}
	})
	e.both([]string{"rollback"}, []string{"--rollback"}, func(a []string, table, js string) {
		e.contains(table, "restored", a...)
		var r control.RollbackResult
		e.decode(js, &r, a...)
	})
}
