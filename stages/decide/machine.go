package decide

import (
	"fmt"
	"math"

	"github.com/ainka/ainka/stages/predict"
)

// machine is the engine's state machine. Entering a state is immediate;
// leaving needs the signal to stay under the exit level for StateHold, so
// that one quiet window does not end an anomaly.
type machine struct {
	cfg    *Config
	state  State
	since  uint64 // event time the state was entered
	forced bool   // an operator turned emergency mode on

	anomalyClear stamp // since when the joint score is under AnomalyExit
	emergClear   stamp // since when it is under the emergency exit level
	forecastFire stamp // when a forecast-driven policy last acted
}

// enter switches to st at now and reports whether that is a change.
func (m *machine) enter(st State, now uint64) bool {
	if st == m.state {
		return false
	}
	m.state, m.since = st, now
	return true
}

// next is the state for a window at now with host alarm a, age event
// time after the first window, and why it is entered. The host alarm
// (package alarm: its level and the features that drove it) is the
// signal: it was cross-validated on testdata/faults for few false
// alarms, where the joint score misses most faults.
func (m *machine) next(now uint64, a *predict.Output, age uint64) (State, string) {
	j := a.Alarm.Level
	next, why := m.emergency(now, a)
	if next == Emergency {
		return next, why
	}
	hold := uint64(m.cfg.StateHold)
	learning := age < uint64(m.cfg.LearningDuration) || math.IsNaN(j)
	switch {
	case !math.IsNaN(j) && j >= m.cfg.AnomalyEnter:
		m.anomalyClear.clear()
		return AnomalyDetection, fmt.Sprintf("host alarm %.3f ≥ %.3g%s", j, m.cfg.AnomalyEnter, driven(a))
	case m.state == AnomalyDetection && !learning:
		if j >= m.cfg.AnomalyExit {
			m.anomalyClear.clear()
			return next, why
		}
		m.anomalyClear.startOnce(now)
		if m.anomalyClear.heldFor(now, hold) {
			return Optimizing, "host alarm stayed below the exit level"
		}
		return next, why
	case learning && m.state == Learning:
		return Learning, why
	case m.forecastFire.within(now, hold):
		return PredictiveScaling, "a forecast-driven policy acted"
	case m.state == Learning:
		return Optimizing, "learning period over and the predictor is ready"
	case why == "":
		return Optimizing, "conditions back to normal"
	}
	return Optimizing, why
}

// emergency decides entering and leaving emergency mode; otherwise it
// returns the current state.
func (m *machine) emergency(now uint64, a *predict.Output) (State, string) {
	j, thr := a.Alarm.Level, m.cfg.EmergencyThreshold
	switch {
	case m.forced:
		return Emergency, ""
	case !math.IsNaN(j) && j >= thr:
		m.emergClear.clear()
		return Emergency, fmt.Sprintf("host alarm %.3f ≥ emergency_mode_threshold %.3g%s", j, thr, driven(a))
	case m.state != Emergency:
		return m.state, ""
	case !math.IsNaN(j) && j >= thr-m.cfg.Hysteresis:
		m.emergClear.clear()
		return Emergency, ""
	}
	m.emergClear.startOnce(now)
	if m.emergClear.heldFor(now, uint64(m.cfg.StateHold)) {
		return Optimizing, "host alarm stayed below the emergency exit level"
	}
	return Emergency, ""
}

// driven names the features that drove the alarm and the tasks, devices
// or namespaces that showed them most: " (driven by blk_iops (device 8:0))".
func driven(a *predict.Output) string {
	if a.Alarm.NDrivers == 0 {
		return ""
	}
	return " (driven by " + a.Why() + ")"
}
