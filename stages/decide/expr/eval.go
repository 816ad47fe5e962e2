package expr

import (
	"math"
	"time"

	"github.com/ainka/ainka/stages/features"
)

// Env is what a condition reads: one window's features and the predictor's
// view of them. Missing values are NaN.
type Env interface {
	Feature(id features.ID) float64
	Anomaly(id features.ID) float64
	// Forecast returns the forecast of id at horizon (0: the predictor's
	// own horizon) with its interval.
	Forecast(id features.ID, horizon time.Duration) (v, lo, hi float64)
	Joint() float64
	// Alarm is the host alarm's level (stages/predict/alarm): 0.8 and
	// above is an alarm.
	Alarm() float64
	// Time is the event time of the window, in nanoseconds.
	Time() uint64
	// Plugin is the value named "PLUGIN.NAME": a probe plugin's feature
	// or a detector plugin's score; NaN when no loaded plugin has it.
	Plugin(name string) float64
	// PluginAnomaly is a probe plugin feature's anomaly score.
	PluginAnomaly(name string) float64
	// PluginForecast is a probe plugin feature's forecast, as Forecast.
	PluginForecast(name string, horizon time.Duration) (v, lo, hi float64)
}

// Tri is a three-valued truth.
type Tri uint8

const (
	False Tri = iota
	True
	Unknown
)

func (t Tri) String() string {
	switch t {
	case True:
		return "true"
	case False:
		return "false"
	}
	return "unknown"
}

// State is the per-policy memory of a program: when each "for" operand
// became true.
type State struct {
	since []trueSince // per "for": since when its operand is true
}

// trueSince is an optional event time: ok is false while the operand is
// not true (event time 0 is a valid time, so it cannot mean "unset").
type trueSince struct {
	ns uint64
	ok bool
}

// NewState returns a State sized for p.
func (p *Program) NewState() *State { return &State{since: make([]trueSince, p.slots)} }

// Reset forgets all "for" progress.
func (s *State) Reset() { clear(s.since) }

// Eval evaluates the program on env. Call it once per window, in event-time
// order, with the same State. It does not allocate.
func (p *Program) Eval(env Env, st *State) Tri {
	v := p.eval(p.root, env, st)
	switch {
	case math.IsNaN(v):
		return Unknown
	case v != 0:
		return True
	}
	return False
}

// Value returns the current value of ref r on env, for explanations.
func (p *Program) Value(r Ref, env Env) float64 { return p.eval(r.n, env, nil) }

func tri(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

var nan = math.NaN()

func (p *Program) eval(i int32, env Env, st *State) float64 {
	n := &p.nodes[i]
	switch n.op {
	case opConst:
		return n.val
	case opFeature:
		return env.Feature(n.id)
	case opAnomaly:
		return env.Anomaly(n.id)
	case opForecast:
		v, _, _ := env.Forecast(n.id, n.dur)
		return v
	case opForecastLo:
		_, lo, _ := env.Forecast(n.id, n.dur)
		return lo
	case opForecastHi:
		_, _, hi := env.Forecast(n.id, n.dur)
		return hi
	case opPlugin:
		return env.Plugin(n.name)
	case opPluginAnomaly:
		return env.PluginAnomaly(n.name)
	case opPluginForecast, opPluginForecastLo, opPluginForecastHi:
		v, lo, hi := env.PluginForecast(n.name, n.dur)
		return [...]float64{v, lo, hi}[n.op-opPluginForecast]
	case opJoint:
		return env.Joint()
	case opAlarm:
		return env.Alarm()
	case opNeg:
		return -p.eval(n.a, env, st)
	case opAdd:
		return p.eval(n.a, env, st) + p.eval(n.b, env, st)
	case opSub:
		return p.eval(n.a, env, st) - p.eval(n.b, env, st)
	case opMul:
		return p.eval(n.a, env, st) * p.eval(n.b, env, st)
	case opDiv:
		d := p.eval(n.b, env, st)
		if d == 0 {
			return nan // x/0 is unknown, not +Inf: nothing should fire on it
		}
		return p.eval(n.a, env, st) / d
	case opAbs:
		return math.Abs(p.eval(n.a, env, st))
	case opMin, opMax:
		a, b := p.eval(n.a, env, st), p.eval(n.b, env, st)
		if math.IsNaN(a) || math.IsNaN(b) {
			return nan
		}
		if (a < b) == (n.op == opMin) {
			return a
		}
		return b
	case opGT, opGE, opLT, opLE, opEQ, opNE:
		return compare(n.op, p.eval(n.a, env, st), p.eval(n.b, env, st))
	case opAnd, opOr, opNot:
		return p.evalLogic(n, env, st)
	case opFor:
		return p.evalFor(n, env, st)
	}
	return nan
}

// compare is a comparison in three-valued logic: unknown if either side
// is.
func compare(o op, a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) {
		return nan
	}
	switch o {
	case opGT:
		return tri(a > b)
	case opGE:
		return tri(a >= b)
	case opLT:
		return tri(a < b)
	case opLE:
		return tri(a <= b)
	case opEQ:
		return tri(a == b)
	}
	return tri(a != b)
}

// evalLogic is and, or and not in Kleene's three-valued logic.
func (p *Program) evalLogic(n *node, env Env, st *State) float64 {
	switch n.op {
	case opAnd:
		// Kleene: false wins over unknown.
		a, b := p.eval(n.a, env, st), p.eval(n.b, env, st)
		if a == 0 || b == 0 {
			return 0
		}
		if math.IsNaN(a) || math.IsNaN(b) {
			return nan
		}
		return 1
	case opOr:
		a, b := p.eval(n.a, env, st), p.eval(n.b, env, st)
		if a == 1 || b == 1 {
			return 1
		}
		if math.IsNaN(a) || math.IsNaN(b) {
			return nan
		}
		return 0
	case opNot:
		a := p.eval(n.a, env, st)
		if math.IsNaN(a) {
			return nan
		}
		return 1 - a
	}
	return nan
}

// evalFor is "operand for duration": true once the operand has been true
// for the duration of event time.
func (p *Program) evalFor(n *node, env Env, st *State) float64 {
	a := p.eval(n.a, env, st)
	if st == nil { // explanation only: report the operand
		return a
	}
	now := env.Time()
	if a != 1 {
		st.since[n.slot] = trueSince{}
		if math.IsNaN(a) {
			return nan
		}
		return 0
	}
	if !st.since[n.slot].ok {
		st.since[n.slot] = trueSince{ns: now, ok: true}
	}
	return tri(now-st.since[n.slot].ns >= uint64(n.dur))
}
