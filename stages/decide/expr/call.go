package expr

import (
	"fmt"
	"strings"
	"time"

	"github.com/ainka/ainka/internal/textdist"
	"github.com/ainka/ainka/stages/features"
)

// Feature references and calls: the parts of the grammar that name features
// and functions, apart from the operator precedence ladder in parse.go.

func (ps *parser) feature(t token) (features.ID, error) {
	if t.kind != tIdent {
		return 0, ps.errAt(t, fmt.Sprintf("expected a feature name, got %s", t))
	}
	name := strings.ToLower(t.text)
	if full, ok := Aliases[name]; ok {
		name = full
	}
	if id, ok := features.Lookup(name); ok {
		return id, nil
	}
	msg := fmt.Sprintf("unknown feature %q", t.text)
	if s := suggest(name); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return 0, ps.errAt(t, msg)
}

var funcs = map[string]string{
	"anomaly":     "anomaly(feature): the feature's anomaly score in [0,1]",
	"forecast":    "forecast(feature[, horizon]): the forecast value",
	"forecast_lo": "forecast_lo(feature[, horizon]): the forecast's lower bound",
	"forecast_hi": "forecast_hi(feature[, horizon]): the forecast's upper bound",
	"joint":       "joint(): the joint anomaly score in [0,1]",
	"alarm":       "alarm(): the host alarm in [0,1] (0.8 and above: an alarm)",
	"abs":         "abs(x)",
	"min":         "min(x, y)",
	"max":         "max(x, y)",
}

func (ps *parser) parseCall(name token, fn string) (int32, typ, error) {
	open := ps.next() // "("
	usage, ok := funcs[fn]
	if !ok {
		if _, isFeat := features.Lookup(fn); isFeat {
			return 0, 0, ps.errAt(name, fmt.Sprintf("%q is a feature, not a function", name.text))
		}
		return 0, 0, ps.errAt(name, fmt.Sprintf("unknown function %q (functions: anomaly, forecast, forecast_lo, forecast_hi, joint, alarm, abs, min, max)", name.text))
	}
	closeParen := func() error {
		c := ps.next()
		if c.kind != tOp || c.text != ")" {
			return ps.errAt(c, fmt.Sprintf("expected \")\" to close %s( at column %d, got %s; usage: %s", fn, open.col, c, usage))
		}
		return nil
	}
	switch fn {
	case "joint", "alarm":
		if err := closeParen(); err != nil {
			return 0, 0, err
		}
		o := opJoint
		if fn == "alarm" {
			o = opAlarm
		}
		n := ps.add(node{op: o})
		ps.ref(fn+"()", n)
		ps.p.usesAnomaly = true
		return n, tyNum, nil
	case "anomaly", "forecast", "forecast_lo", "forecast_hi":
		return ps.parseFeatureCall(fn, closeParen)
	case "abs":
		at := ps.peek()
		a, ty, err := ps.parseOr()
		if err != nil {
			return 0, 0, err
		}
		if err := ps.wantNum(at, ty, "abs"); err != nil {
			return 0, 0, err
		}
		if err := closeParen(); err != nil {
			return 0, 0, err
		}
		return ps.add(node{op: opAbs, a: a}), tyNum, nil
	default: // min, max
		return ps.parseMinMax(fn, usage, closeParen)
	}
}

// parseFeatureCall parses the arguments of anomaly(feature) and
// forecast*(feature[, horizon]); the feature may be a plugin's
// (PLUGIN.NAME).
func (ps *parser) parseFeatureCall(fn string, closeParen func() error) (int32, typ, error) {
	ft := ps.next()
	var nd node
	var arg string
	if ft.kind == tIdent && strings.Contains(ft.text, ".") {
		if err := ps.pluginName(ft); err != nil {
			return 0, 0, err
		}
		arg = strings.ToLower(ft.text)
		nd = node{op: pluginOps[fn], name: arg}
	} else {
		id, err := ps.feature(ft)
		if err != nil {
			return 0, 0, err
		}
		arg = id.String()
		nd = node{op: featureOps[fn], id: id}
	}
	if fn == "anomaly" {
		ps.p.usesAnomaly = true
	} else {
		ps.p.usesForecast = true
		d, err := ps.horizon()
		if err != nil {
			return 0, 0, err
		}
		nd.dur = d
	}
	if err := closeParen(); err != nil {
		return 0, 0, err
	}
	n := ps.add(nd)
	refName := fn + "(" + arg + ")"
	if nd.dur > 0 {
		refName = fn + "(" + arg + ", " + nd.dur.String() + ")"
	}
	ps.ref(refName, n)
	return n, tyNum, nil
}

var (
	featureOps = map[string]op{"anomaly": opAnomaly, "forecast": opForecast, "forecast_lo": opForecastLo, "forecast_hi": opForecastHi}
	pluginOps  = map[string]op{"anomaly": opPluginAnomaly, "forecast": opPluginForecast, "forecast_lo": opPluginForecastLo, "forecast_hi": opPluginForecastHi}
)

// horizon parses a forecast's optional ", horizon" (0: none).
func (ps *parser) horizon() (time.Duration, error) {
	if !ps.isOp(",") {
		return 0, nil
	}
	ps.next()
	ht := ps.next()
	if ht.kind != tDuration || ht.dur <= 0 {
		return 0, ps.errAt(ht, fmt.Sprintf("forecast horizon must be a positive duration like 30s, got %s", ht))
	}
	return ht.dur, nil
}

// pluginName checks a plugin's feature or score name: PLUGIN.NAME, each
// part as plugins name them (1-32 of a-z, 0-9, _, starting with a
// letter). Which plugins are loaded is known only at run time (plugins
// come and go with reloads): a name no loaded plugin has is unknown.
func (ps *parser) pluginName(t token) error {
	plugin, name, _ := strings.Cut(strings.ToLower(t.text), ".")
	for _, part := range []string{plugin, name} {
		if len(part) == 0 || len(part) > 32 || part[0] < 'a' || part[0] > 'z' {
			return ps.errAt(t, fmt.Sprintf("plugin name %q: want PLUGIN.NAME, each 1-32 of a-z, 0-9, _ starting with a letter", t.text))
		}
	}
	return nil
}

// parseMinMax parses the two numeric arguments of min and max.
func (ps *parser) parseMinMax(fn, usage string, closeParen func() error) (int32, typ, error) {
	at := ps.peek()
	a, ty, err := ps.parseOr()
	if err != nil {
		return 0, 0, err
	}
	if err := ps.wantNum(at, ty, fn); err != nil {
		return 0, 0, err
	}
	if c := ps.next(); c.kind != tOp || c.text != "," {
		return 0, 0, ps.errAt(c, fmt.Sprintf("expected \",\" in %s, got %s; usage: %s", fn, c, usage))
	}
	bt := ps.peek()
	b, ty2, err := ps.parseOr()
	if err != nil {
		return 0, 0, err
	}
	if err := ps.wantNum(bt, ty2, fn); err != nil {
		return 0, 0, err
	}
	if err := closeParen(); err != nil {
		return 0, 0, err
	}
	o := opMin
	if fn == "max" {
		o = opMax
	}
	return ps.add(node{op: o, a: a, b: b}), tyNum, nil
}

// suggest returns the feature name or alias closest to s, if close enough
// to be a likely typo.
func suggest(s string) string {
	best, bestD := "", 4
	try := func(c string) {
		if d := textdist.Distance(s, c); d < bestD || (d == bestD && best != "" && c < best) {
			best, bestD = c, d
		}
	}
	for _, n := range features.Names() {
		try(n)
	}
	for a := range Aliases {
		try(a)
	}
	return best
}
