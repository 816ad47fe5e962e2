package expr

import (
	"fmt"
	"strings"
	"time"

	"github.com/ainka/ainka/stages/features"
)

type op uint8

const (
	opConst op = iota
	opFeature
	opAnomaly
	opForecast
	opForecastLo
	opForecastHi
	opPlugin // a plugin's feature or score, by name
	opPluginAnomaly
	opPluginForecast // opPluginForecast, Lo, Hi: in this order
	opPluginForecastLo
	opPluginForecastHi
	opJoint
	opAlarm
	opNeg
	opAdd
	opSub
	opMul
	opDiv
	opAbs
	opMin
	opMax
	opGT
	opGE
	opLT
	opLE
	opEQ
	opNE
	opAnd
	opOr
	opNot
	opFor
)

type node struct {
	op   op
	a, b int32       // child node indices
	id   features.ID // feature of opFeature/opAnomaly/opForecast*
	name string      // "PLUGIN.NAME" of opPlugin*
	val  float64     // constant
	dur  time.Duration
	slot int32 // state slot of opFor
}

// Aliases are the design's short forms: "cpu>90" means cpu_busy_pct > 90.
var Aliases = map[string]string{
	"cpu":             "cpu_busy_pct",
	"runq":            "runq_latency_p99_us",
	"runq_latency":    "runq_latency_p99_us",
	"io":              "psi_io_some_pct",
	"mem":             "psi_mem_some_pct",
	"memory":          "psi_mem_some_pct",
	"mem_available":   "mem_available_mb",
	"load":            "nr_running",
	"disk_latency":    "blk_latency_p99_us",
	"syscall_latency": "syscall_latency_p99_us",
}

// Ref is one input a program reads, for explaining a decision.
type Ref struct {
	Name string // "runq_latency_p99_us", "anomaly(blk_latency_p99_us)", ...
	n    int32  // node that computes it
}

// Program is a compiled condition. It is immutable and safe to share; the
// mutable part of evaluation lives in a State.
type Program struct {
	src   string
	nodes []node
	root  int32
	slots int
	refs  []Ref

	usesForecast, usesAnomaly bool
	maxFor                    time.Duration
}

// Source returns the condition text the program was compiled from.
func (p *Program) Source() string { return p.src }

// Refs lists the distinct inputs the condition reads, in source order.
func (p *Program) Refs() []Ref { return p.refs }

// UsesForecast reports whether the condition reads a forecast.
func (p *Program) UsesForecast() bool { return p.usesForecast }

// UsesAnomaly reports whether the condition reads an anomaly score.
func (p *Program) UsesAnomaly() bool { return p.usesAnomaly }

// MaxFor is the longest "for" duration of the condition.
func (p *Program) MaxFor() time.Duration { return p.maxFor }

type typ uint8

const (
	tyNum typ = iota
	tyBool
)

// Limits on a condition. The parser is recursive descent, so without a
// bound on nesting a hostile condition ("((((…" 400 KB deep) exhausts the
// goroutine stack, a fatal error that no recover catches and that skips
// the exit restore of every changed knob. Real conditions are a line or
// two with a few levels of parentheses.
const (
	// MaxLen is the longest condition, in bytes.
	MaxLen = 16 << 10
	// MaxDepth is the deepest nesting of parentheses, function calls,
	// "not" and unary minus.
	MaxDepth = 64
)

type parser struct {
	toks  []token
	pos   int
	depth int
	p     *Program
}

// Parse compiles a condition. The result of the whole condition must be a
// truth value (a comparison, a combination of them, true or false).
func Parse(src string) (*Program, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &Error{1, 1, "empty condition"}
	}
	if len(src) > MaxLen {
		return nil, &Error{1, 1, fmt.Sprintf("condition is %d bytes, longer than the limit of %d", len(src), MaxLen)}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	ps := &parser{toks: toks, p: &Program{src: src}}
	start := ps.peek()
	root, ty, err := ps.parseOr()
	if err != nil {
		return nil, err
	}
	if t := ps.peek(); t.kind != tEOF {
		return nil, ps.errAt(t, fmt.Sprintf("unexpected %s after a complete condition", t))
	}
	if ty != tyBool {
		return nil, ps.errAt(start, "condition is a number, not a truth value; compare it, e.g. \"cpu_busy_pct > 90\"")
	}
	ps.p.root = root
	return ps.p, nil
}

func (ps *parser) peek() token { return ps.toks[ps.pos] }
func (ps *parser) next() token { t := ps.toks[ps.pos]; ps.pos++; return t }

func (ps *parser) errAt(t token, msg string) error { return &Error{t.line, t.col, msg} }

// enter counts one level of nesting at t; every enter that succeeds is
// paired with a leave.
func (ps *parser) enter(t token) error {
	ps.depth++
	if ps.depth > MaxDepth {
		return ps.errAt(t, fmt.Sprintf("nested more than %d levels deep", MaxDepth))
	}
	return nil
}
func (ps *parser) leave() { ps.depth-- }

func (ps *parser) isOp(s string) bool {
	t := ps.peek()
	return t.kind == tOp && t.text == s
}
func (ps *parser) isWord(s string) bool {
	t := ps.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, s)
}

func (ps *parser) add(n node) int32 {
	ps.p.nodes = append(ps.p.nodes, n)
	return int32(len(ps.p.nodes) - 1)
}

func (ps *parser) wantBool(t token, ty typ, what string) error {
	if ty != tyBool {
		return ps.errAt(t, fmt.Sprintf("%s needs a truth value (a comparison), got a number", what))
	}
	return nil
}
func (ps *parser) wantNum(t token, ty typ, what string) error {
	if ty != tyNum {
		return ps.errAt(t, fmt.Sprintf("%s needs a number, got a truth value", what))
	}
	return nil
}

func (ps *parser) parseOr() (int32, typ, error) {
	lt := ps.peek()
	a, ty, err := ps.parseAnd()
	if err != nil {
		return 0, 0, err
	}
	for ps.isWord("or") || ps.isOp("||") {
		opTok := ps.next()
		if err := ps.wantBool(lt, ty, fmt.Sprintf("%q", opTok.text)); err != nil {
			return 0, 0, err
		}
		rt := ps.peek()
		b, ty2, err := ps.parseAnd()
		if err != nil {
			return 0, 0, err
		}
		if err := ps.wantBool(rt, ty2, fmt.Sprintf("%q", opTok.text)); err != nil {
			return 0, 0, err
		}
		a = ps.add(node{op: opOr, a: a, b: b})
	}
	return a, ty, nil
}

func (ps *parser) parseAnd() (int32, typ, error) {
	lt := ps.peek()
	a, ty, err := ps.parseNot()
	if err != nil {
		return 0, 0, err
	}
	for ps.isWord("and") || ps.isOp("&&") {
		opTok := ps.next()
		if err := ps.wantBool(lt, ty, fmt.Sprintf("%q", opTok.text)); err != nil {
			return 0, 0, err
		}
		rt := ps.peek()
		b, ty2, err := ps.parseNot()
		if err != nil {
			return 0, 0, err
		}
		if err := ps.wantBool(rt, ty2, fmt.Sprintf("%q", opTok.text)); err != nil {
			return 0, 0, err
		}
		a = ps.add(node{op: opAnd, a: a, b: b})
	}
	return a, ty, nil
}

func (ps *parser) parseNot() (int32, typ, error) {
	if ps.isWord("not") || ps.isOp("!") {
		if err := ps.enter(ps.next()); err != nil {
			return 0, 0, err
		}
		defer ps.leave()
		t := ps.peek()
		a, ty, err := ps.parseNot()
		if err != nil {
			return 0, 0, err
		}
		if err := ps.wantBool(t, ty, "not"); err != nil {
			return 0, 0, err
		}
		return ps.add(node{op: opNot, a: a}), tyBool, nil
	}
	return ps.parseFor()
}

// parseFor parses a comparison optionally followed by "for DURATION".
func (ps *parser) parseFor() (int32, typ, error) {
	t := ps.peek()
	a, ty, err := ps.parseCmp()
	if err != nil {
		return 0, 0, err
	}
	if !ps.isWord("for") {
		return a, ty, nil
	}
	ft := ps.next()
	if err := ps.wantBool(t, ty, "\"for\""); err != nil {
		return 0, 0, err
	}
	dt := ps.next()
	if dt.kind != tDuration {
		return 0, 0, ps.errAt(dt, fmt.Sprintf("\"for\" needs a duration like 5s or 500ms, got %s", dt))
	}
	if dt.dur <= 0 {
		return 0, 0, ps.errAt(dt, "\"for\" duration must be positive")
	}
	_ = ft
	slot := ps.p.slots
	ps.p.slots++
	if dt.dur > ps.p.maxFor {
		ps.p.maxFor = dt.dur
	}
	return ps.add(node{op: opFor, a: a, dur: dt.dur, slot: int32(slot)}), tyBool, nil
}

var cmpOps = map[string]op{">": opGT, ">=": opGE, "<": opLT, "<=": opLE, "==": opEQ, "!=": opNE}

func (ps *parser) parseCmp() (int32, typ, error) {
	lt := ps.peek()
	a, ty, err := ps.parseSum()
	if err != nil {
		return 0, 0, err
	}
	t := ps.peek()
	o, ok := cmpOps[t.text]
	if t.kind != tOp || !ok {
		return a, ty, nil
	}
	ps.next()
	if err := ps.wantNum(lt, ty, fmt.Sprintf("comparison %q", t.text)); err != nil {
		return 0, 0, err
	}
	rt := ps.peek()
	b, ty2, err := ps.parseSum()
	if err != nil {
		return 0, 0, err
	}
	if err := ps.wantNum(rt, ty2, fmt.Sprintf("comparison %q", t.text)); err != nil {
		return 0, 0, err
	}
	if nt := ps.peek(); nt.kind == tOp && cmpOps[nt.text] != 0 {
		return 0, 0, ps.errAt(nt, "comparisons do not chain; combine them with \"and\"")
	}
	return ps.add(node{op: o, a: a, b: b}), tyBool, nil
}

func (ps *parser) parseSum() (int32, typ, error) {
	lt := ps.peek()
	a, ty, err := ps.parseTerm()
	if err != nil {
		return 0, 0, err
	}
	for ps.isOp("+") || ps.isOp("-") {
		t := ps.next()
		if err := ps.wantNum(lt, ty, fmt.Sprintf("%q", t.text)); err != nil {
			return 0, 0, err
		}
		rt := ps.peek()
		b, ty2, err := ps.parseTerm()
		if err != nil {
			return 0, 0, err
		}
		if err := ps.wantNum(rt, ty2, fmt.Sprintf("%q", t.text)); err != nil {
			return 0, 0, err
		}
		o := opAdd
		if t.text == "-" {
			o = opSub
		}
		a = ps.add(node{op: o, a: a, b: b})
	}
	return a, ty, nil
}

func (ps *parser) parseTerm() (int32, typ, error) {
	lt := ps.peek()
	a, ty, err := ps.parseUnary()
	if err != nil {
		return 0, 0, err
	}
	for ps.isOp("*") || ps.isOp("/") {
		t := ps.next()
		if err := ps.wantNum(lt, ty, fmt.Sprintf("%q", t.text)); err != nil {
			return 0, 0, err
		}
		rt := ps.peek()
		b, ty2, err := ps.parseUnary()
		if err != nil {
			return 0, 0, err
		}
		if err := ps.wantNum(rt, ty2, fmt.Sprintf("%q", t.text)); err != nil {
			return 0, 0, err
		}
		o := opMul
		if t.text == "/" {
			o = opDiv
		}
		a = ps.add(node{op: o, a: a, b: b})
	}
	return a, ty, nil
}

func (ps *parser) parseUnary() (int32, typ, error) {
	if ps.isOp("-") {
		if err := ps.enter(ps.next()); err != nil {
			return 0, 0, err
		}
		defer ps.leave()
		t := ps.peek()
		a, ty, err := ps.parseUnary()
		if err != nil {
			return 0, 0, err
		}
		if err := ps.wantNum(t, ty, "unary \"-\""); err != nil {
			return 0, 0, err
		}
		return ps.add(node{op: opNeg, a: a}), tyNum, nil
	}
	return ps.parsePrimary()
}

func (ps *parser) parsePrimary() (int32, typ, error) {
	t := ps.next()
	switch t.kind {
	case tNumber:
		return ps.add(node{op: opConst, val: t.val}), tyNum, nil
	case tDuration:
		return 0, 0, ps.errAt(t, fmt.Sprintf("a duration (%s) is only allowed after \"for\" or as a forecast horizon", t.text))
	case tEOF:
		return 0, 0, ps.errAt(t, "condition ends too early: expected a feature, number or \"(\"")
	case tOp:
		if t.text == "(" {
			if err := ps.enter(t); err != nil {
				return 0, 0, err
			}
			defer ps.leave()
			a, ty, err := ps.parseOr()
			if err != nil {
				return 0, 0, err
			}
			if c := ps.next(); c.kind != tOp || c.text != ")" {
				return 0, 0, ps.errAt(c, fmt.Sprintf("expected \")\" to close the \"(\" at column %d, got %s", t.col, c))
			}
			return a, ty, nil
		}
		return 0, 0, ps.errAt(t, fmt.Sprintf("unexpected %s: expected a feature, number or \"(\"", t))
	}
	// identifier
	name := strings.ToLower(t.text)
	switch name {
	case "true":
		return ps.add(node{op: opConst, val: 1}), tyBool, nil
	case "false":
		return ps.add(node{op: opConst, val: 0}), tyBool, nil
	case "and", "or", "not", "for":
		return 0, 0, ps.errAt(t, fmt.Sprintf("unexpected %q: expected a feature, number or \"(\"", t.text))
	}
	if ps.isOp("(") {
		if err := ps.enter(t); err != nil {
			return 0, 0, err
		}
		defer ps.leave()
		return ps.parseCall(t, name)
	}
	if strings.Contains(name, ".") {
		if err := ps.pluginName(t); err != nil {
			return 0, 0, err
		}
		n := ps.add(node{op: opPlugin, name: name})
		ps.ref(name, n)
		return n, tyNum, nil
	}
	id, err := ps.feature(t)
	if err != nil {
		return 0, 0, err
	}
	n := ps.add(node{op: opFeature, id: id})
	ps.ref(id.String(), n)
	return n, tyNum, nil
}

func (ps *parser) ref(name string, n int32) {
	for _, r := range ps.p.refs {
		if r.Name == name {
			return
		}
	}
	ps.p.refs = append(ps.p.refs, Ref{Name: name, n: n})
}
