package view

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Num is a float64 that survives JSON: NaN and ±Inf (a missing feature,
// an interval not learned yet) travel as null and come back as NaN.
type Num float64

// MarshalJSON writes null for NaN and ±Inf.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return n.appendJSON(make([]byte, 0, 24)), nil
}

func (n Num) appendJSON(b []byte) []byte {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// Nums is a series of Num encoded in one piece: a snapshot holds
// thousands of numbers and is encoded every second for each view, and
// encoding/json's per-value Marshaler call (and its rescan of each
// result) would cost several times the numbers themselves.
type Nums []Num

// MarshalJSON writes the series as one array, NaN and ±Inf as null.
func (ns Nums) MarshalJSON() ([]byte, error) {
	if ns == nil {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 2+10*len(ns))
	b = append(b, '[')
	for i, n := range ns {
		if i > 0 {
			b = append(b, ',')
		}
		b = n.appendJSON(b)
	}
	return append(b, ']'), nil
}

// UnmarshalJSON reads null as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Num(f)
	return nil
}

// Valid reports whether n is a finite number.
func (n Num) Valid() bool { return !math.IsNaN(float64(n)) && !math.IsInf(float64(n), 0) }

// Snapshot is the daemon as a person sees it at one moment.
type Snapshot struct {
	At     time.Time `json:"at"`
	Mode   string    `json:"mode"` // live or replay
	Uptime float64   `json:"uptime_s"`
	DryRun bool      `json:"dry_run"`
	// EventTimeNs is the end of the last window predict scored: in a
	// replay it runs ahead of the wall clock.
	EventTimeNs uint64 `json:"event_time_ns"`
	Windows     uint64 `json:"windows"`

	Engine Engine `json:"engine"`
	// Regime names the workload regime when a stage classifies one; ""
	// until then (the view shows the joint anomaly score instead).
	Regime    string `json:"regime,omitempty"`
	Joint     Num    `json:"joint_score"`
	JointHist Nums   `json:"joint_history"`
	// Alarm is the host alarm (package alarm): 0.8 and above an alarm,
	// AlarmDrivers the features that drove it (or, below, the closest),
	// AlarmWhy the same with the task, device or namespace that showed
	// each most: "blk_iops (device 8:0)".
	Alarm        Num      `json:"host_alarm"`
	AlarmHist    Nums     `json:"host_alarm_history"`
	AlarmDrivers []string `json:"host_alarm_drivers,omitempty"`
	AlarmWhy     string   `json:"host_alarm_why,omitempty"`

	Kinds []KindRate `json:"kinds"`
	// RingFill is how full the eBPF ring buffer came at its fullest over
	// the last second (0..1; null in a replay): near 1, events are lost.
	RingFill Num       `json:"ring_fill"`
	Stages   []Stage   `json:"stages"`
	Features []Feature `json:"features"`
	// Decisions and Changes are the most recent, newest last.
	Decisions []Decision `json:"decisions"`
	Changes   []Change   `json:"changes"`
	// Knobs are the knobs AINKA has changed and not restored.
	Knobs []Knob `json:"knobs"`
	// HorizonNs is how far ahead the forecasts look.
	HorizonNs uint64   `json:"horizon_ns"`
	Tuners    []Tuner  `json:"tuners,omitempty"`
	Policies  []Policy `json:"policies,omitempty"`
	// Log is the daemon's most recent warnings and errors, one line each.
	Log []string `json:"log,omitempty"`
}

// Engine is the decide stage's state machine.
type Engine struct {
	State     string `json:"state"`
	SinceNs   uint64 `json:"since_ns"` // event time the state was entered
	Emergency bool   `json:"emergency"`
	Policies  int    `json:"policies"`
	Decisions uint64 `json:"decisions"`
	// ReloadError is the last policy file reload failure, if any.
	ReloadError string `json:"reload_error,omitempty"`
}

// KindRate is one event kind: decoded events per second and, live, what
// the kernel side lost (ring buffer full) and the source dropped (queue
// full), per second and in total.
type KindRate struct {
	Kind        string `json:"kind"`
	PerSec      Num    `json:"per_s"`
	Total       uint64 `json:"total"`
	Lost        uint64 `json:"lost"`
	LostPerSec  Num    `json:"lost_per_s"`
	Dropped     uint64 `json:"dropped"`
	DropsPerSec Num    `json:"dropped_per_s"`
}

// Stage is one pipeline stage: items in per second, drops, and how full
// its input queue is (0..1).
type Stage struct {
	Name     string  `json:"name"`
	InPerSec Num     `json:"in_per_s"`
	Dropped  uint64  `json:"dropped"`
	Fill     float64 `json:"queue_fill"`
}

// Feature is one feature's last value, anomaly score in [0,1], forecast
// with interval, and recent history (one point per second of event time,
// oldest first).
type Feature struct {
	Name     string `json:"name"`
	Value    Num    `json:"value"`
	Score    Num    `json:"score"`
	MaxScore Num    `json:"max_score"` // highest score over History's span
	Forecast Num    `json:"forecast"`
	Lo       Num    `json:"lo"`
	Hi       Num    `json:"hi"`
	History  Nums   `json:"history"`
	// Scores, LoHist and HiHist are aligned with History: the score and
	// the forecast interval (for HorizonNs later) of each second.
	Scores Nums `json:"scores"`
	LoHist Nums `json:"lo_history"`
	HiHist Nums `json:"hi_history"`
}

// Decision is one output of the engine with its reason in one line.
type Decision struct {
	TimeNs uint64 `json:"time_ns"`
	Kind   string `json:"kind"` // apply, revert, effect, state
	Policy string `json:"policy,omitempty"`
	Action string `json:"action,omitempty"`
	Why    string `json:"why"`
}

// Change is what actuate did with one decision on one knob.
type Change struct {
	TimeNs uint64 `json:"time_ns"`
	Status string `json:"status"` // applied, dry_run, restored, yielded, ...
	Policy string `json:"policy,omitempty"`
	Knob   string `json:"knob,omitempty"`
	Old    string `json:"old,omitempty"`
	New    string `json:"new,omitempty"`
	Why    string `json:"why,omitempty"`
	// Gain is what a tuner measured for the setting it settled on, its
	// objective's change in percent; "" for a policy's change and for a
	// tuner's trial, whose gain is not known yet.
	Gain string `json:"gain,omitempty"`
}

// Text is the change in one line: the knob, old → new, who and why, and a
// tuner's measured gain last. An outcome that touched no knob (a tuner's
// advice, a notification) has no knob to show, only who and why.
func (c Change) Text() string { return c.head() + c.tail() }

func (c Change) head() string {
	if c.Knob == "" {
		return fmt.Sprintf("%s: %s", c.Policy, c.Why)
	}
	return fmt.Sprintf("%s %s → %s  %s: %s", c.Knob, c.Old, c.New, c.Policy, c.Why)
}

func (c Change) tail() string {
	if c.Gain == "" {
		return ""
	}
	return "  gain " + c.Gain
}

// Line is Text in at most w columns: the why is cut, never the gain.
func (c Change) Line(w int) string {
	tail := c.tail()
	return left(c.head(), max(w-utf8.RuneCountInString(tail), 1)) + tail
}

// Knob is a knob AINKA holds changed: its original value, the current
// one, who changed it and since when.
type Knob struct {
	Knob     string `json:"knob"`
	Original string `json:"original"`
	Value    string `json:"value"`
	Policy   string `json:"policy"`
	Why      string `json:"why,omitempty"`
	Since    string `json:"since"` // wall clock of the first change
}
