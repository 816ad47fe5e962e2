package decide

import (
	"fmt"
	"math"
	"time"

	"github.com/ainka/ainka/stages/decide/action"
	"github.com/ainka/ainka/stages/decide/expr"
	"github.com/ainka/ainka/stages/predict"
)

// Process evaluates a batch of prediction outputs in event-time order and
// appends the decisions to out. It does not allocate in steady state.
func (s *Stage) Process(in []predict.Output, out []Decision) []Decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range in {
		out = s.observe(&in[i], out)
	}
	return out
}

// observe is one window: bookkeeping, state machine, effect measurement,
// and policy evaluation when the cadence says so.
func (s *Stage) observe(w *predict.Output, out []Decision) []Decision {
	now := w.Vector.EndNs
	if len(s.pending) > 0 {
		for i := range s.pending {
			if s.pending[i].TimeNs == 0 {
				s.pending[i].TimeNs = now
			}
		}
		out = append(out, s.pending...)
		s.pending = s.pending[:0]
	}
	if s.started && now < s.lastNs {
		return out // out of order: event time never goes back
	}
	if !s.started {
		s.started, s.firstNs = true, now
		s.lastEval = 0
	}
	s.windows++
	s.lastNs = now
	s.latest, s.haveLatest = *w, true
	s.record(w)
	env := windowEnv{w}
	out = s.machine(env, out)
	out = s.measure(now, out)

	iv := s.cfg.EvalInterval
	if s.state == Emergency {
		iv = s.cfg.EmergencyEvalInterval
	}
	if s.lastEval != 0 && now-s.lastEval < uint64(iv) {
		return out
	}
	s.lastEval = now
	return s.evaluate(env, out)
}

func (s *Stage) record(w *predict.Output) {
	e := &s.hist[s.histHead]
	e.t = w.Vector.EndNs
	e.v = w.Vector.Values
	s.histHead = (s.histHead + 1) % len(s.hist)
	if s.histN < len(s.hist) {
		s.histN++
	}
}

// stats returns mean, variance, count, slope per ns, and range of feature
// id over windows with from < t <= to.
func (s *Stage) stats(id int, from, to uint64) (mean, variance float64, n int, slope, mid, lo, hi float64) {
	var sx, sy, sxx, sxy, syy float64
	lo, hi = math.Inf(1), math.Inf(-1)
	for k := 0; k < s.histN; k++ {
		e := &s.hist[(s.histHead-1-k+2*len(s.hist))%len(s.hist)]
		if e.t <= from {
			break
		}
		if e.t > to || math.IsNaN(e.v[id]) {
			continue
		}
		x := float64(e.t - from)
		y := e.v[id]
		n++
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
		syy += y * y
		lo, hi = math.Min(lo, y), math.Max(hi, y)
	}
	if n == 0 {
		return math.NaN(), math.NaN(), 0, 0, 0, lo, hi
	}
	fn := float64(n)
	mean = sy / fn
	if n > 1 {
		variance = (syy - sy*sy/fn) / (fn - 1)
		if variance < 0 {
			variance = 0
		}
		// The slope counts only if it is significant (|b| ≥ 2 standard
		// errors): otherwise noise would be read as drift.
		cxx, cxy := sxx-sx*sx/fn, sxy-sx*sy/fn
		if cxx > 0 && n > 2 {
			b := cxy / cxx
			resid := math.Max(0, (syy-sy*sy/fn)-b*cxy) / (fn - 2)
			if math.Abs(b) >= 2*math.Sqrt(resid/cxx) {
				slope = b
			}
		}
	}
	return mean, variance, n, slope, float64(from) + sx/fn, lo, hi
}

// enter switches state and emits a StateChange.
func (s *Stage) enter(st State, now uint64, why string) {
	if st == s.state {
		return
	}
	s.log.Info("state change", "from", s.state.String(), "to", st.String(), "reason", why, "event_ns", now)
	s.state, s.since = st, now
	s.pending = append(s.pending, Decision{TimeNs: now, Kind: StateChange, State: st, Reason: why})
}

// machine runs the state machine on one window. Entering is immediate;
// leaving needs the signal to stay under the exit level for StateHold.
func (s *Stage) machine(env windowEnv, out []Decision) []Decision {
	now := env.Time()
	j := env.Joint()
	hold := uint64(s.cfg.StateHold)
	next := s.state
	why := ""
	if s.manual == 1 {
		next = Emergency
	} else if !math.IsNaN(j) && j >= s.cfg.EmergencyThreshold {
		next, why = Emergency, fmt.Sprintf("joint anomaly %.3f ≥ emergency_mode_threshold %.3g", j, s.cfg.EmergencyThreshold)
		s.emergClear = 0
	} else if s.state == Emergency {
		if math.IsNaN(j) || j < s.cfg.EmergencyThreshold-s.cfg.Hysteresis {
			if s.emergClear == 0 {
				s.emergClear = now + 1
			}
			if now+1-s.emergClear >= hold {
				next, why = Optimizing, "joint anomaly stayed below the emergency exit level"
			}
		} else {
			s.emergClear = 0
		}
	}
	if next != Emergency {
		learning := now-s.firstNs < uint64(s.cfg.LearningDuration) || math.IsNaN(j)
		switch {
		case !math.IsNaN(j) && j >= s.cfg.AnomalyEnter:
			next, why = AnomalyDetection, fmt.Sprintf("joint anomaly %.3f ≥ %.3g", j, s.cfg.AnomalyEnter)
			s.anomalyClear = 0
		case s.state == AnomalyDetection && !learning:
			if j < s.cfg.AnomalyExit {
				if s.anomalyClear == 0 {
					s.anomalyClear = now + 1
				}
				if now+1-s.anomalyClear >= hold {
					next, why = Optimizing, "joint anomaly stayed below the exit level"
				}
			} else {
				s.anomalyClear = 0
			}
		case learning && s.state == Learning:
			next = Learning
		case s.lastForecastFire != 0 && now+1-s.lastForecastFire < hold:
			next, why = PredictiveScaling, "a forecast-driven policy acted"
		default:
			if s.state == Learning {
				why = "learning period over and the predictor is ready"
			} else if why == "" {
				why = "conditions back to normal"
			}
			next = Optimizing
		}
	}
	if next != s.state {
		s.enter(next, now, why)
		out = append(out, s.pending...)
		s.pending = s.pending[:0]
	}
	return out
}

// measure finishes effect measurements whose after-window is complete.
func (s *Stage) measure(now uint64, out []Decision) []Decision {
	settle, win := uint64(s.cfg.SettleTime), uint64(s.cfg.EffectWindow)
	for _, r := range s.rules {
		for len(r.pending) > 0 && now >= r.pending[0].atNs+settle+win {
			p := r.pending[0]
			r.pending = r.pending[1:]
			out = s.judge(r, p, now, out)
		}
	}
	return out
}

// judge scores one actuation: the objective after it against what it
// would have been without it (the before-window mean carried along its
// own trend when that trend is significant, so that drift is not credited
// to the action and a noisy slope cannot invent an effect), counted only
// if the difference stands out of the noise (Welch's t ≥ 2).
func (s *Stage) judge(r *rule, p pendingEffect, now uint64, out []Decision) []Decision {
	settle, win := uint64(s.cfg.SettleTime), uint64(s.cfg.EffectWindow)
	from := p.atNs + settle
	am, av, an, _, amid, _, _ := s.stats(int(r.c.obj), from, from+win)
	if an < 2 || p.beforeN < 2 {
		return out // not enough data to judge either way
	}
	expected := p.beforeMean + p.slope*(amid-p.beforeMid)
	diff := expected - am
	if r.c.maximize {
		diff = -diff
	}
	score := 0.0
	se := math.Sqrt(p.beforeV/float64(p.beforeN) + av/float64(an))
	if se == 0 || math.Abs(expected-am)/se >= 2 {
		den := math.Max(math.Abs(expected), 1e-9)
		score = math.Max(-1, math.Min(1, diff/den))
	}
	if r.nEffect == 0 || math.IsNaN(r.effect) {
		r.effect = score
	} else {
		r.effect = 0.5*r.effect + 0.5*score
	}
	r.nEffect++
	d := Decision{TimeNs: now, Kind: Effect, Policy: r.c.Name, Priority: r.c.Priority, Action: r.c.act,
		Objective: r.c.obj.String(), Before: expected, After: am, Score: score, Effectiveness: r.effect}
	out = append(out, d)
	if r.effect < s.cfg.EffectivenessThreshold && !r.paused {
		r.paused = true
		r.reason = fmt.Sprintf("ineffective: effect score %.3f < policy_effectiveness_threshold %.3g (%s %.4g -> %.4g)",
			r.effect, s.cfg.EffectivenessThreshold, r.c.obj, expected, am)
		s.log.Warn("policy paused", "policy", r.c.Name, "reason", r.reason)
		if r.active && r.c.act.Kind != action.Notify {
			r.active = false
			out = append(out, Decision{TimeNs: now, Kind: Revert, Policy: r.c.Name, Priority: r.c.Priority, Action: r.c.act, Reason: r.reason})
		}
	}
	return out
}

// evaluate runs every policy once on env.
func (s *Stage) evaluate(env expr.Env, out []Decision) []Decision {
	now := env.Time()
	// Policies are sorted by priority, so the first to claim a knob in
	// this evaluation wins it; claimed holds the keys taken so far.
	var claimed [16]string
	nClaimed := 0
	isClaimed := func(k string) bool {
		for i := 0; i < nClaimed; i++ {
			if claimed[i] == k {
				return true
			}
		}
		return false
	}
	for _, r := range s.rules {
		c := r.c
		if !c.Enabled || r.paused {
			continue
		}
		if s.state == Emergency && !c.Emergency {
			continue
		}
		if s.state == Learning && (c.prog.UsesAnomaly() || c.prog.UsesForecast()) {
			continue
		}
		res := c.prog.Eval(env, r.st)
		if res != expr.True {
			if r.active && c.RevertAfter > 0 {
				if r.clearFrom == 0 {
					r.clearFrom = now + 1
				}
				if now+1-r.clearFrom >= uint64(c.RevertAfter) {
					r.active, r.clearFrom = false, 0
					out = append(out, Decision{TimeNs: now, Kind: Revert, Policy: c.Name, Priority: c.Priority, Action: c.act,
						Reason: fmt.Sprintf("condition clear for %v (revert_after)", c.RevertAfter)})
				}
			}
			continue
		}
		r.clearFrom = 0
		if r.fired && now-r.lastFire < uint64(c.Cooldown) {
			continue
		}
		if r.active && c.act.Op == action.Set {
			continue // already applied; writing it again changes nothing
		}
		key := c.act.Key()
		if key != "" {
			if isClaimed(key) || s.heldByHigher(r, key) {
				r.suppr++
				continue
			}
			if nClaimed < len(claimed) {
				claimed[nClaimed] = key
				nClaimed++
			}
			out = s.noteWriter(r, key, now, out)
			if r.paused {
				continue
			}
		}
		r.fired, r.lastFire = true, now
		r.acts++
		if key != "" {
			r.active = true
		}
		if c.prog.UsesForecast() {
			s.lastForecastFire = now + 1
		}
		if c.hasObj {
			from := now - min(now, uint64(s.cfg.EffectWindow))
			m, v, n, slope, mid, lo, hi := s.stats(int(c.obj), from, now)
			r.pending = append(r.pending, pendingEffect{atNs: now, beforeMean: m, beforeV: v, beforeN: n, slope: slope, beforeMid: mid, beforeMin: lo, beforeMx: hi})
		}
		d := Decision{TimeNs: now, Kind: Apply, Policy: c.Name, Priority: c.Priority, Action: c.act, Condition: c.Condition}
		for _, ref := range c.prog.Refs() {
			if d.NValues == MaxValues {
				break
			}
			d.Values[d.NValues] = Value{ref.Name, c.prog.Value(ref, env)}
			d.NValues++
		}
		s.decisions++
		out = append(out, d)
	}
	return out
}

// heldByHigher reports whether a higher-priority policy has its action
// applied on key.
func (s *Stage) heldByHigher(r *rule, key string) bool {
	for _, o := range s.rules {
		if o != r && o.active && o.c.Priority > r.c.Priority && o.c.act.Key() == key {
			return true
		}
	}
	return false
}

// noteWriter tracks which policy last wrote key. When the writer keeps
// changing (FlapCount changes within FlapWindow) the policies are undoing
// each other: the lower-priority one is paused.
func (s *Stage) noteWriter(r *rule, key string, now uint64, out []Decision) []Decision {
	h := s.knobs[key]
	if h == nil {
		h = &knobHist{}
		s.knobs[key] = h
	}
	if h.writer == r.c.Name || h.writer == "" {
		h.writer = r.c.Name
		return out
	}
	prev := h.writer
	h.writer = r.c.Name
	h.changes = append(h.changes, now)
	cut := 0
	for cut < len(h.changes) && now-h.changes[cut] > uint64(s.cfg.FlapWindow) {
		cut++
	}
	h.changes = h.changes[cut:]
	if len(h.changes) < s.cfg.FlapCount {
		return out
	}
	var other *rule
	for _, o := range s.rules {
		if o.c.Name == prev {
			other = o
		}
	}
	if other == nil {
		return out
	}
	loser, winner := r, other
	if other.c.Priority < r.c.Priority || (other.c.Priority == r.c.Priority && other.c.Name > r.c.Name) {
		loser, winner = other, r
	}
	loser.paused = true
	loser.reason = fmt.Sprintf("flapping: %q and %q changed %s %d times within %v; %q has the lower priority",
		loser.c.Name, winner.c.Name, key, len(h.changes), time.Duration(s.cfg.FlapWindow), loser.c.Name)
	s.log.Warn("policy paused", "policy", loser.c.Name, "reason", loser.reason)
	h.changes = h.changes[:0]
	loser.active = false
	h.writer = winner.c.Name
	return out
}

// Flush emits what is pending (reverts of removed policies, state changes
// asked for by the operator) at the end of input.
func (s *Stage) Flush(out []Decision) []Decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.pending {
		if s.pending[i].TimeNs == 0 {
			s.pending[i].TimeNs = s.lastNs
		}
	}
	out = append(out, s.pending...)
	s.pending = s.pending[:0]
	return out
}
