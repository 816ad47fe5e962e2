package decide

import (
	"fmt"
	"log/slog"
	"time"
)

// Config configures the engine. Zero fields take the defaults noted.
type Config struct {
	PolicyFile string // [policy] policy_file; empty: only API policies
	// UpdateInterval is how often Watch polls the policy file for changes
	// ([policy] policy_update_interval_sec). 0: default 10s; <0: never.
	UpdateInterval time.Duration
	// MaxPolicies caps file + API policies ([policy] max_policies; default 64).
	MaxPolicies int
	// EffectivenessThreshold ([policy] policy_effectiveness_threshold;
	// the configuration's default is 0.05, 0 here means 0): a policy whose running effect score (relative
	// improvement of its objective, in [-1,1]) falls below it is reverted
	// and paused.
	EffectivenessThreshold float64
	// EmergencyThreshold ([policy] emergency_mode_threshold, default 0.95):
	// the joint anomaly score at which the engine enters emergency mode.
	EmergencyThreshold float64

	EvalInterval          time.Duration // event time between evaluations (default 1s; <0: every window)
	EmergencyEvalInterval time.Duration // the same in emergency mode (default: every window)
	LearningDuration      time.Duration // default 60s; <0: none
	AnomalyEnter          float64       // default 0.8
	AnomalyExit           float64       // default 0.6
	Hysteresis            float64       // emergency exit margin, default 0.1
	StateHold             time.Duration // default 10s
	SettleTime            time.Duration // after an action, before measuring (default 2s)
	EffectWindow          time.Duration // before/after window (default 10s)
	FlapCount             int           // writer changes on one knob that make flapping (default 4)
	FlapWindow            time.Duration // default 5m

	Logger *slog.Logger
	// OnLoad, when set, is called after policies were loaded from the
	// file or added through the API, outside the engine's lock: the
	// daemon claims their knobs then (actuate.Stage.Claim), so that a
	// condition's first write waits for no journal fsync.
	OnLoad func()
}

func (c *Config) defaults() error {
	if c.UpdateInterval == 0 {
		c.UpdateInterval = 10 * time.Second
	}
	if c.MaxPolicies == 0 {
		c.MaxPolicies = 64
	}
	if c.MaxPolicies < 0 {
		return fmt.Errorf("max_policies %d must be positive", c.MaxPolicies)
	}
	if c.EffectivenessThreshold < -1 || c.EffectivenessThreshold > 1 {
		return fmt.Errorf("policy_effectiveness_threshold %v outside [-1, 1]", c.EffectivenessThreshold)
	}
	if c.EmergencyThreshold == 0 {
		c.EmergencyThreshold = 0.95
	}
	if c.EmergencyThreshold <= 0 || c.EmergencyThreshold > 1 {
		return fmt.Errorf("emergency_mode_threshold %v outside (0, 1]", c.EmergencyThreshold)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
		if *d < 0 {
			*d = 0
		}
	}
	def(&c.EvalInterval, time.Second)
	def(&c.LearningDuration, 60*time.Second)
	def(&c.StateHold, 10*time.Second)
	def(&c.SettleTime, 2*time.Second)
	def(&c.EffectWindow, 10*time.Second)
	def(&c.FlapWindow, 5*time.Minute)
	if c.EmergencyEvalInterval < 0 {
		c.EmergencyEvalInterval = 0
	}
	if c.AnomalyEnter == 0 {
		c.AnomalyEnter = 0.8
	}
	if c.AnomalyExit == 0 {
		c.AnomalyExit = 0.6
	}
	if c.AnomalyExit > c.AnomalyEnter {
		return fmt.Errorf("anomaly exit %v above enter %v", c.AnomalyExit, c.AnomalyEnter)
	}
	if c.Hysteresis == 0 {
		c.Hysteresis = 0.1
	}
	if c.FlapCount == 0 {
		c.FlapCount = 4
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}
