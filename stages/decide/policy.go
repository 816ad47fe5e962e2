package decide

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/ainka/ainka/internal/tomlguard"
	"github.com/ainka/ainka/stages/decide/action"
	"github.com/ainka/ainka/stages/decide/expr"
	"github.com/ainka/ainka/stages/features"
)

// Policy is one rule as written by the user.
type Policy struct {
	Name      string
	Condition string
	Action    string
	Priority  int           // higher wins a conflict on one knob
	Cooldown  time.Duration // event time between two firings
	Enabled   bool
	// Objective is the feature the action should improve:
	// "runq_latency_p99_us" or "minimize runq_latency_p99_us" lowers it,
	// "maximize mem_available_mb" raises it. Empty: no effect tracking.
	Objective string
	// Emergency policies are the only ones that run in emergency mode.
	Emergency bool
	// RevertAfter, if set, restores the knob once the condition has been
	// false for this long.
	RevertAfter time.Duration

	// Description says what the policy is for, for listings.
	Description string

	// Origin is where the policy came from: "file:line" or "api".
	Origin string
}

// ErrPolicy is wrapped by every policy validation error.
var ErrPolicy = errors.New("invalid policy")

// compiled is a validated policy.
type compiled struct {
	Policy
	prog     *expr.Program
	act      action.Action
	obj      features.ID
	hasObj   bool
	maximize bool
}

// predictive reports whether the condition reads anomaly scores or
// forecasts, which do not exist while the predictor learns.
func (c *compiled) predictive() bool { return c.prog.UsesAnomaly() || c.prog.UsesForecast() }

// posError is an error at a position of the policy file.
type posError struct {
	file      string
	line, col int
	msg       string
}

func (e *posError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.file, e.line, e.col, e.msg)
}
func (e *posError) Unwrap() error { return ErrPolicy }

// compile validates p. at maps an offset in Condition/Action to a file
// position; nil for policies from the API.
func compile(p Policy, loc *locator, idx int) (*compiled, error) {
	fail := func(key string, line, col int, msg string) error {
		if loc == nil {
			if key != "" && line > 0 {
				return fmt.Errorf("%w: policy %q: %s: %d:%d: %s", ErrPolicy, p.Name, key, line, col, msg)
			}
			return fmt.Errorf("%w: policy %q: %s", ErrPolicy, p.Name, msg)
		}
		fl, fc := loc.pos(idx, key, line, col)
		return &posError{loc.file, fl, fc, fmt.Sprintf("policy %q: %s", p.Name, msg)}
	}
	if p.Name == "" {
		return nil, fail("name", 0, 0, "missing name")
	}
	if !action.IsName(p.Name) || len(p.Name) > 64 {
		return nil, fail("name", 1, 1, "name must be 1-64 characters of [A-Za-z0-9_.:@-]")
	}
	if strings.TrimSpace(p.Condition) == "" {
		return nil, fail("condition", 0, 0, "missing condition")
	}
	if strings.TrimSpace(p.Action) == "" {
		return nil, fail("action", 0, 0, "missing action")
	}
	if p.Cooldown < 0 || p.RevertAfter < 0 {
		return nil, fail("cooldown", 0, 0, "durations must not be negative")
	}
	if p.Priority < 0 || p.Priority > 1000 {
		return nil, fail("priority", 1, 1, fmt.Sprintf("priority %d outside [0, 1000]", p.Priority))
	}
	prog, err := expr.Parse(p.Condition)
	if err != nil {
		var ee *expr.Error
		if errors.As(err, &ee) {
			return nil, fail("condition", ee.Line, ee.Col, "condition: "+ee.Msg)
		}
		return nil, fail("condition", 0, 0, err.Error())
	}
	if n := len(prog.Refs()); n > MaxValues {
		// A Decision carries the values of its condition's inputs, up to
		// MaxValues: more would be cut from every explanation unseen.
		return nil, fail("condition", 0, 0, fmt.Sprintf("condition reads %d values; a decision explains at most %d, split it into two policies", n, MaxValues))
	}
	act, err := action.Parse(p.Action)
	if err != nil {
		var ae *action.Error
		if errors.As(err, &ae) {
			return nil, fail("action", 1, ae.Col, "action: "+ae.Msg)
		}
		return nil, fail("action", 0, 0, err.Error())
	}
	c := &compiled{Policy: p, prog: prog, act: act}
	if o := strings.TrimSpace(p.Objective); o != "" {
		f := strings.Fields(o)
		name := f[len(f)-1]
		if len(f) == 2 {
			switch f[0] {
			case "minimize":
			case "maximize":
				c.maximize = true
			default:
				return nil, fail("objective", 1, 1, fmt.Sprintf("objective %q: want FEATURE, \"minimize FEATURE\" or \"maximize FEATURE\"", o))
			}
		} else if len(f) != 1 {
			return nil, fail("objective", 1, 1, fmt.Sprintf("objective %q: want FEATURE, \"minimize FEATURE\" or \"maximize FEATURE\"", o))
		}
		if full, ok := expr.Aliases[name]; ok {
			name = full
		}
		id, ok := features.Lookup(name)
		if !ok {
			return nil, fail("objective", 1, strings.Index(p.Objective, f[len(f)-1])+1, fmt.Sprintf("objective: unknown feature %q", f[len(f)-1]))
		}
		c.obj, c.hasObj = id, true
	}
	return c, nil
}

// fileDoc is the policy file.
type fileDoc struct {
	Policy []filePolicy `toml:"policy"`
}

type filePolicy struct {
	Name        string `toml:"name"`
	Condition   string `toml:"condition"`
	Action      string `toml:"action"`
	Priority    *int   `toml:"priority"`
	Cooldown    string `toml:"cooldown"`
	Enabled     *bool  `toml:"enabled"`
	Objective   string `toml:"objective"`
	Emergency   bool   `toml:"emergency"`
	RevertAfter string `toml:"revert_after"`
	Description string `toml:"description"`
}

// DefaultPriority and DefaultCooldown apply when a policy leaves them out.
const (
	DefaultPriority = 50
	DefaultCooldown = 30 * time.Second
)

// ParseFile parses a policy file's contents. name is used in messages.
// Every error names the line and column.
func ParseFile(name string, data []byte) ([]Policy, error) {
	cs, err := parseFile(name, data, 0)
	if err != nil {
		return nil, err
	}
	out := make([]Policy, len(cs))
	for i, c := range cs {
		out[i] = c.Policy
	}
	return out, nil
}

// ErrTooManyPolicies is returned when max_policies would be exceeded.
var ErrTooManyPolicies = errors.New("too many policies")

// parseFile parses and compiles a policy file's policies, each once. With
// limit > 0 a file of more than limit policies is refused before anything is
// decoded: counting the [[policy]] headers is one cheap pass, while
// decoding and compiling 100 000 policies takes seconds.
func parseFile(name string, data []byte, limit int) ([]*compiled, error) {
	if limit > 0 {
		if n := countPolicies(data); n > limit {
			return nil, fmt.Errorf("%w: %s has %d policies, max_policies is %d", ErrTooManyPolicies, name, n, limit)
		}
	}
	if err := tomlguard.Check(data); err != nil {
		var ge *tomlguard.Error
		errors.As(err, &ge)
		return nil, &posError{name, max(ge.Line, 1), 1, ge.Msg}
	}
	var doc fileDoc
	md, err := toml.Decode(string(data), &doc)
	if err != nil {
		return nil, decodeError(name, data, err)
	}
	loc := newLocator(name, data)
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		line, col := loc.keyPos(k)
		return nil, &posError{name, line, col, fmt.Sprintf("unknown key %q (policy keys: name, condition, action, priority, cooldown, enabled, objective, emergency, revert_after, description)", k.String())}
	}
	out := make([]*compiled, 0, len(doc.Policy))
	seen := map[string]int{}
	for i, fp := range doc.Policy {
		p := Policy{
			Name: fp.Name, Condition: fp.Condition, Action: fp.Action,
			Priority: DefaultPriority, Cooldown: DefaultCooldown, Enabled: true,
			Objective: fp.Objective, Emergency: fp.Emergency, Description: fp.Description,
			Origin: fmt.Sprintf("%s:%d", name, loc.blockLine(i)),
		}
		if fp.Priority != nil {
			p.Priority = *fp.Priority
		}
		if fp.Enabled != nil {
			p.Enabled = *fp.Enabled
		}
		for _, d := range []struct {
			key string
			s   string
			dst *time.Duration
		}{{"cooldown", fp.Cooldown, &p.Cooldown}, {"revert_after", fp.RevertAfter, &p.RevertAfter}} {
			if d.s == "" {
				continue
			}
			v, err := time.ParseDuration(d.s)
			if err != nil || v < 0 {
				l, c := loc.pos(i, d.key, 1, 1)
				return nil, &posError{name, l, c, fmt.Sprintf("policy %q: %s %q is not a duration like 30s or 5m", fp.Name, d.key, d.s)}
			}
			*d.dst = v
		}
		if j, dup := seen[p.Name]; dup && p.Name != "" {
			l, c := loc.pos(i, "name", 1, 1)
			return nil, &posError{name, l, c, fmt.Sprintf("policy %q is defined twice (first at line %d)", p.Name, loc.blockLine(j))}
		}
		seen[p.Name] = i
		c, err := compile(p, loc, i)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// countPolicies counts the lines that open a [[policy]] table, an upper
// bound on the policies the decoder will find.
func countPolicies(data []byte) int {
	n := 0
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSpace(line)
		if bytes.HasPrefix(line, []byte("[[")) && string(bytes.TrimSpace(bytes.Trim(line, "[]"))) == "policy" {
			n++
		}
	}
	return n
}

// decodeError places a TOML decoding error at its line and column.
func decodeError(name string, data []byte, err error) error {
	var pe toml.ParseError
	var ppe *toml.ParseError
	if errors.As(err, &ppe) {
		pe, ppe = *ppe, nil
	}
	if pe.Position.Line > 0 || errors.As(err, &pe) {
		col := pe.Position.Col
		if col == 0 {
			col = 1
		}
		return &posError{name, pe.Position.Line, col, pe.Message}
	}
	// Type errors ("priority = \"high\"") come without a position
	// field but name the line and key in the text.
	if m := typeErrRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		col := 1
		lines := strings.Split(string(data), "\n")
		if line >= 1 && line <= len(lines) {
			col = len(lines[line-1]) - len(strings.TrimLeft(lines[line-1], " \t")) + 1
		}
		msg := fmt.Sprintf("key %q: %s", m[2], m[3])
		if m[2] == "policy" {
			msg += " (write each policy as a [[policy]] table)"
		}
		return &posError{name, line, col, msg}
	}
	return fmt.Errorf("%w: %s: %v", ErrPolicy, name, err)
}

var typeErrRe = regexp.MustCompile(`line (\d+) \(last key "([^"]+)"\): (.*)`)

// LoadFile reads and parses a policy file.
func LoadFile(path string) ([]Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy file: %w", err)
	}
	return ParseFile(path, data)
}

// locator finds where keys of the i-th [[policy]] block are in the file.
// The TOML decoder does not expose key positions, and a policy file is
// simple enough to find them by scanning lines.
type locator struct {
	file   string
	lines  []string
	blocks []int // 0-based line index of each [[policy]] header
}

func newLocator(file string, data []byte) *locator {
	l := &locator{file: file, lines: strings.Split(string(data), "\n")}
	for i, s := range l.lines {
		t := strings.TrimSpace(s)
		if strings.HasPrefix(t, "[[") && strings.TrimSpace(strings.Trim(t, "[]")) == "policy" {
			l.blocks = append(l.blocks, i)
		}
	}
	return l
}

func (l *locator) blockLine(i int) int {
	if i < len(l.blocks) {
		return l.blocks[i] + 1
	}
	return 1
}

// keyLine returns the 0-based line of key in block i and the 0-based byte
// offset where its value starts.
func (l *locator) keyLine(i int, key string) (int, int, bool) {
	if i >= len(l.blocks) {
		return 0, 0, false
	}
	end := len(l.lines)
	if i+1 < len(l.blocks) {
		end = l.blocks[i+1]
	}
	for n := l.blocks[i] + 1; n < end; n++ {
		s := l.lines[n]
		t := strings.TrimLeft(s, " \t")
		if !strings.HasPrefix(t, key) {
			continue
		}
		rest := strings.TrimLeft(t[len(key):], " \t")
		if !strings.HasPrefix(rest, "=") {
			continue
		}
		v := strings.TrimLeft(rest[1:], " \t")
		return n, len(s) - len(v), true
	}
	return 0, 0, false
}

// pos maps (line, col) inside the value of key in block i to the file.
func (l *locator) pos(i int, key string, line, col int) (int, int) {
	n, off, ok := l.keyLine(i, key)
	if !ok {
		return l.blockLine(i), 1
	}
	if line == 0 { // no position inside the value: point at the key
		return n + 1, len(l.lines[n]) - len(strings.TrimLeft(l.lines[n], " \t")) + 1
	}
	v := l.lines[n][off:]
	switch {
	case strings.HasPrefix(v, `"""`) || strings.HasPrefix(v, "'''"):
		rest := v[3:]
		if strings.TrimSpace(rest) == "" { // the newline after """ is trimmed
			return n + 1 + line, col
		}
		if line == 1 {
			return n + 1, off + 3 + col
		}
		return n + line, col
	case strings.HasPrefix(v, `"`) || strings.HasPrefix(v, "'"):
		return n + 1, off + 1 + col
	}
	return n + 1, off + col
}

// keyPos finds an undecoded key like policy.foo by its last component.
func (l *locator) keyPos(k toml.Key) (int, int) {
	last := k[len(k)-1]
	for n, s := range l.lines {
		t := strings.TrimLeft(s, " \t")
		if strings.HasPrefix(t, last) {
			rest := strings.TrimLeft(t[len(last):], " \t")
			if strings.HasPrefix(rest, "=") || strings.HasPrefix(rest, "]") {
				return n + 1, len(s) - len(t) + 1
			}
		}
		if strings.HasPrefix(t, "["+last+"]") || strings.HasPrefix(t, "[["+last+"]]") {
			return n + 1, len(s) - len(t) + 1
		}
	}
	return 1, 1
}
