package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// WhyNot says which terms keep the condition from being true on env: each
// comparison that is false or unknown, with the values it compared
// ("cpu_busy_pct > 90 is false [cpu_busy_pct=42]",
// "anomaly(blk_latency_p99_us) > 0.5 is unknown [anomaly(blk_latency_p99_us)=?]").
// It reads no State: a "for" reports its operand, and when every term
// holds now it says that the condition must still hold for its duration.
// It returns "" when the condition holds now with no "for".
func (p *Program) WhyNot(env Env) string {
	var terms []string
	p.whyNot(p.root, env, &terms)
	return strings.Join(terms, "; ")
}

// whyNot appends why node i is not true.
func (p *Program) whyNot(i int32, env Env, out *[]string) {
	n := &p.nodes[i]
	v := p.eval(i, env, nil)
	switch n.op {
	case opAnd, opOr:
		if v == 1 {
			return
		}
		// and: every operand not true is a reason; or: all of them are.
		for _, c := range []int32{n.a, n.b} {
			if p.eval(c, env, nil) != 1 {
				p.whyNot(c, env, out)
			}
		}
	case opNot:
		if v != 1 {
			*out = append(*out, p.text(i)+" is "+truth(v)+" ["+p.values(n.a, env)+"]")
		}
	case opFor:
		if a := p.eval(n.a, env, nil); a != 1 {
			p.whyNot(n.a, env, out)
		} else {
			*out = append(*out, fmt.Sprintf("%s holds now, but must hold for %v", p.text(n.a), n.dur))
		}
	default:
		if v != 1 {
			*out = append(*out, p.text(i)+" is "+truth(v)+" ["+p.values(i, env)+"]")
		}
	}
}

func truth(v float64) string {
	if math.IsNaN(v) {
		return "unknown"
	}
	return "false"
}

// values lists the inputs under node i with their values now, "?" for an
// unknown one.
func (p *Program) values(i int32, env Env) string {
	var vs []string
	var walk func(int32)
	walk = func(i int32) {
		n := &p.nodes[i]
		switch n.op {
		case opConst:
			return
		case opFeature, opAnomaly, opForecast, opForecastLo, opForecastHi, opJoint, opAlarm:
			v := "?"
			if x := p.eval(i, env, nil); !math.IsNaN(x) {
				v = strconv.FormatFloat(x, 'g', 4, 64)
			}
			vs = append(vs, p.text(i)+"="+v)
			return
		}
		walk(n.a)
		if binary(n.op) {
			walk(n.b)
		}
	}
	walk(i)
	return strings.Join(vs, ", ")
}

func binary(o op) bool {
	switch o {
	case opAdd, opSub, opMul, opDiv, opMin, opMax, opGT, opGE, opLT, opLE, opEQ, opNE, opAnd, opOr:
		return true
	}
	return false
}

var opText = map[op]string{opAdd: "+", opSub: "-", opMul: "*", opDiv: "/", opGT: ">", opGE: ">=", opLT: "<",
	opLE: "<=", opEQ: "==", opNE: "!=", opAnd: "and", opOr: "or"}

// text prints node i in the condition language, parenthesising every
// compound operand so that the reading is never ambiguous.
func (p *Program) text(i int32) string {
	n := &p.nodes[i]
	sub := func(c int32) string {
		s := p.text(c)
		if o := p.nodes[c].op; binary(o) && o != opMin && o != opMax {
			return "(" + s + ")"
		}
		return s
	}
	switch n.op {
	case opConst:
		return strconv.FormatFloat(n.val, 'g', -1, 64)
	case opFeature:
		return n.id.String()
	case opAnomaly:
		return "anomaly(" + n.id.String() + ")"
	case opForecast, opForecastLo, opForecastHi:
		name := map[op]string{opForecast: "forecast", opForecastLo: "forecast_lo", opForecastHi: "forecast_hi"}[n.op]
		if n.dur > 0 {
			return fmt.Sprintf("%s(%s, %v)", name, n.id, n.dur)
		}
		return name + "(" + n.id.String() + ")"
	case opJoint:
		return "joint()"
	case opAlarm:
		return "alarm()"
	case opNeg:
		return "-" + sub(n.a)
	case opAbs:
		return "abs(" + p.text(n.a) + ")"
	case opMin, opMax:
		return map[op]string{opMin: "min", opMax: "max"}[n.op] + "(" + p.text(n.a) + ", " + p.text(n.b) + ")"
	case opNot:
		return "not " + sub(n.a)
	case opFor:
		return sub(n.a) + " for " + n.dur.String()
	}
	return sub(n.a) + " " + opText[n.op] + " " + sub(n.b)
}
