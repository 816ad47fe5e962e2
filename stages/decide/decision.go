package decide

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ainka/ainka/stages/decide/action"
)

// Kind is what a Decision asks for.
type Kind uint8

const (
	// Apply: perform Action.
	Apply Kind = iota
	// Revert: restore the knob of Action to its value before AINKA
	// changed it (the policy was paused, removed, or its condition has
	// been clear for its revert_after).
	Revert
	// Effect: the measured effect of an earlier Apply, for the log.
	Effect
	// StateChange: the engine entered State; mirrored to the kernel module.
	StateChange
)

var kindNames = [...]string{"apply", "revert", "effect", "state"}

func (k Kind) String() string { return kindNames[k] }

// MaxValues bounds the condition values a Decision carries.
const MaxValues = 8

// Value is one input of a condition and its value when it fired.
type Value struct {
	Name  string
	Value float64
}

// Decision is one output of the engine.
type Decision struct {
	TimeNs   uint64 // event time of the window that caused it
	Kind     Kind
	Policy   string
	Priority int
	Action   action.Action

	Condition string
	Values    [MaxValues]Value // why: the condition's inputs at that time
	NValues   int

	State State // StateChange: the new state

	// Effect: objective means before and after, and the score in [-1, 1]
	// (positive = improved); Effectiveness is the policy's running score.
	Objective     string
	Before, After float64
	Score         float64
	Effectiveness float64

	Reason string // Revert / StateChange: why, in words

	// Request is the Optimize request the decision answers; 0 for the
	// decisions of the regular cadence.
	Request uint64
}

// Explain says why the decision was made: the condition with the values
// that made it true ("cpu_busy_pct > 90 [cpu_busy_pct=97.2]"), or, for
// decisions without a condition, their Reason.
func (d *Decision) Explain() string {
	if d.Condition == "" {
		return d.Reason
	}
	var b strings.Builder
	b.WriteString(d.Condition)
	if d.NValues > 0 {
		b.WriteString(" [")
		for i := 0; i < d.NValues; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s=%.4g", d.Values[i].Name, d.Values[i].Value)
		}
		b.WriteString("]")
	}
	return b.String()
}

// AppendJSON appends the decision as one JSON object with a fixed key order.
func (d *Decision) AppendJSON(b []byte) []byte {
	b = append(b, `{"time_ns":`...)
	b = strconv.AppendUint(b, d.TimeNs, 10)
	b = append(b, `,"kind":"`...)
	b = append(b, d.Kind.String()...)
	b = append(b, '"')
	if d.Policy != "" {
		b = append(b, `,"policy":`...)
		b = strconv.AppendQuote(b, d.Policy)
		b = append(b, `,"priority":`...)
		b = strconv.AppendInt(b, int64(d.Priority), 10)
	}
	if d.Kind == Apply || d.Kind == Revert || d.Kind == Effect {
		b = append(b, `,"action":`...)
		b = strconv.AppendQuote(b, d.Action.String())
		if k := d.Action.Key(); k != "" {
			b = append(b, `,"knob":`...)
			b = strconv.AppendQuote(b, k)
		}
	}
	if d.Condition != "" {
		b = append(b, `,"condition":`...)
		b = strconv.AppendQuote(b, d.Condition)
	}
	if d.NValues > 0 {
		b = append(b, `,"values":{`...)
		for i := 0; i < d.NValues; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, d.Values[i].Name)
			b = append(b, ':')
			b = appendFloat(b, d.Values[i].Value)
		}
		b = append(b, '}')
	}
	if d.Kind == StateChange {
		b = append(b, `,"state":"`...)
		b = append(b, d.State.String()...)
		b = append(b, '"')
	}
	if d.Kind == Effect {
		b = append(b, `,"objective":`...)
		b = strconv.AppendQuote(b, d.Objective)
		b = append(b, `,"before":`...)
		b = appendFloat(b, d.Before)
		b = append(b, `,"after":`...)
		b = appendFloat(b, d.After)
		b = append(b, `,"score":`...)
		b = appendFloat(b, d.Score)
		b = append(b, `,"effectiveness":`...)
		b = appendFloat(b, d.Effectiveness)
	}
	if d.Reason != "" {
		b = append(b, `,"reason":`...)
		b = strconv.AppendQuote(b, d.Reason)
	}
	if d.Request != 0 {
		b = append(b, `,"request":`...)
		b = strconv.AppendUint(b, d.Request, 10)
	}
	return append(b, '}')
}

func appendFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, v, 'g', 6, 64)
}
