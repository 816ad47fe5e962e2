package action

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Kind is the actuator an action goes to.
type Kind uint8

const (
	Notify Kind = iota
	Sysctl
	Cgroup
	Readahead
	Nice
	IOPrio
	CPUFreq
	Kernel
	Sched // a process's CPU scheduling policy: SCHED_BATCH or SCHED_IDLE
)

var kindNames = [...]string{"notify", "sysctl", "cgroup", "readahead", "nice", "ioprio", "cpufreq", "kernel", "sched"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Op is how the value is applied.
type Op uint8

const (
	Set Op = iota // =
	Add           // +=
	Sub           // -=
	Mul           // *=
)

var opNames = [...]string{"=", "+=", "-=", "*="}

func (o Op) String() string { return opNames[o] }

// Action is one parsed action. It is a value type and comparable.
type Action struct {
	Kind   Kind
	Target string // sysctl name, cgroup path, device, selector, "governor"/"epp", "recommend"/"state"
	Knob   string // cgroup file, kernel recommendation name; a sysctl's "netns:INODE" (see NetnsSysctl)
	Op     Op
	Value  string  // as written, without quotes
	Num    float64 // Value as a number when IsNum
	IsNum  bool
	Source string // the text it was parsed from
}

// Key identifies the knob the action writes, for conflict and flapping
// detection: two actions with one Key fight over one thing.
func (a Action) Key() string {
	switch a.Kind {
	case Notify:
		return ""
	case Cgroup:
		return "cgroup:" + a.Target + ":" + a.Knob
	case Kernel:
		return "kernel:" + a.Target + ":" + a.Knob
	case Sysctl:
		if a.Knob != "" { // a network namespace's own copy of the sysctl
			return "sysctl:" + a.Knob + ":" + a.Target
		}
	}
	return a.Kind.String() + ":" + a.Target
}

// String renders the action in its canonical form.
func (a Action) String() string {
	v := a.Value
	if strings.ContainsAny(v, " \t") {
		v = strconv.Quote(v)
	}
	switch a.Kind {
	case Notify:
		return "notify"
	case Cgroup, Kernel:
		if a.Kind == Kernel && a.Target == "state" {
			return "kernel state = " + v
		}
		return fmt.Sprintf("%s %s %s %s %s", a.Kind, a.Target, a.Knob, a.Op, v)
	case Sysctl:
		if a.Knob != "" {
			return fmt.Sprintf("sysctl %s %s %s %s", a.Knob, a.Target, a.Op, v)
		}
	}
	return fmt.Sprintf("%s %s %s %s", a.Kind, a.Target, a.Op, v)
}

// Error is an action parse error; Col is the 1-based byte column in the
// action text.
type Error struct {
	Col int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("column %d: %s", e.Col, e.Msg) }

type word struct {
	s      string
	col    int
	quoted bool
}

func split(src string) ([]word, error) {
	var ws []word
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				j++
			}
			if j >= len(src) {
				return nil, &Error{i + 1, "unterminated quoted value"}
			}
			ws = append(ws, word{src[i+1 : j], i + 1, true})
			i = j + 1
		default:
			j := i
			for j < len(src) && src[j] != ' ' && src[j] != '\t' && src[j] != '"' {
				j++
			}
			// split an operator glued to the value or the name: "x=5", "x*=2"
			w := src[i:j]
			if k := opIndex(w); k > 0 && !isNumberish(w) {
				j = i + k
				w = src[i:j]
			} else if n := opLen(w); n > 0 && n < len(w) {
				j = i + n
				w = src[i:j]
			}
			ws = append(ws, word{w, i + 1, false})
			i = j
		}
	}
	return ws, nil
}

// opIndex is the index of the first operator inside w, or -1.
func opIndex(w string) int {
	for k := range w {
		if opLen(w[k:]) > 0 {
			return k
		}
	}
	return -1
}
func opLen(s string) int {
	for _, o := range []string{"+=", "-=", "*=", "="} {
		if strings.HasPrefix(s, o) {
			return len(o)
		}
	}
	return 0
}

// isNumberish keeps "-5" or "1e-3" in one piece.
func isNumberish(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// Parse parses one action and checks it against the static table: names
// on the allowlist, values of the right form and inside their range.
func Parse(src string) (Action, error) {
	ws, err := split(src)
	if err != nil {
		return Action{}, err
	}
	if len(ws) == 0 {
		return Action{}, &Error{1, "empty action"}
	}
	a := Action{Source: src}
	head := ws[0]
	switch head.s {
	case "notify", "log":
		if len(ws) > 1 {
			return a, &Error{ws[1].col, fmt.Sprintf("%q takes no arguments", head.s)}
		}
		a.Kind = Notify
		return a, nil
	case "reduce_freq":
		if len(ws) > 1 {
			return a, &Error{ws[1].col, "\"reduce_freq\" takes no arguments"}
		}
		a.Kind, a.Target, a.Op, a.Value = CPUFreq, "epp", Set, "power"
		return a, nil
	case "sysctl":
		a.Kind = Sysctl
		if len(ws) > 1 && strings.HasPrefix(ws[1].s, NetnsPrefix) {
			return parseNetnsSysctl(a, ws)
		}
		return parseTail(a, ws, 1, false)
	case "cgroup":
		a.Kind = Cgroup
		return parseTail(a, ws, 1, true)
	case "readahead":
		a.Kind = Readahead
		return parseTail(a, ws, 1, false)
	case "nice":
		a.Kind = Nice
		return parseTail(a, ws, 1, false)
	case "ioprio":
		a.Kind = IOPrio
		return parseTail(a, ws, 1, false)
	case "sched":
		a.Kind = Sched
		return parseTail(a, ws, 1, false)
	case "cpufreq":
		a.Kind = CPUFreq
		return parseTail(a, ws, 1, false)
	case "kernel":
		a.Kind = Kernel
		if len(ws) > 1 && ws[1].s == "state" {
			return parseTail(a, ws, 1, false)
		}
		return parseTail(a, ws, 1, true)
	}
	return a, &Error{head.col, fmt.Sprintf("unknown action %q (actions: sysctl, cgroup, readahead, nice, ioprio, sched, cpufreq, kernel, notify, reduce_freq)", head.s)}
}

// parseTail parses "TARGET [KNOB] OP VALUE" from ws[i:].
func parseTail(a Action, ws []word, i int, hasKnob bool) (Action, error) {
	end := ws[len(ws)-1]
	endCol := end.col + len(end.s)
	if end.quoted {
		endCol += 2
	}
	need := func(what string) error {
		if i >= len(ws) {
			return &Error{endCol, fmt.Sprintf("%s action ends too early: expected %s", a.Kind, what)}
		}
		return nil
	}
	if err := need("a target"); err != nil {
		return a, err
	}
	a.Target = ws[i].s
	targetCol := ws[i].col
	i++
	knobCol := 0
	if hasKnob {
		if err := need("a file name like cpu.weight"); err != nil {
			return a, err
		}
		a.Knob = ws[i].s
		knobCol = ws[i].col
		i++
	}
	if err := need("an operator (=, +=, -=, *=)"); err != nil {
		return a, err
	}
	opw := ws[i]
	switch opw.s {
	case "=":
		a.Op = Set
	case "+=":
		a.Op = Add
	case "-=":
		a.Op = Sub
	case "*=":
		a.Op = Mul
	default:
		return a, &Error{opw.col, fmt.Sprintf("expected an operator (=, +=, -=, *=), got %q", opw.s)}
	}
	i++
	if err := need("a value"); err != nil {
		return a, err
	}
	vw := ws[i]
	a.Value = vw.s
	if v, err := strconv.ParseFloat(a.Value, 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
		a.Num, a.IsNum = v, true
	}
	i++
	if i < len(ws) {
		return a, &Error{ws[i].col, fmt.Sprintf("unexpected %q after the value (quote values that contain spaces)", ws[i].s)}
	}
	if a.Op != Set && !a.IsNum {
		return a, &Error{vw.col, fmt.Sprintf("%s needs a number, got %q", a.Op, a.Value)}
	}
	if err := check(&a, targetCol, knobCol, vw.col); err != nil {
		return a, err
	}
	return a, nil
}
