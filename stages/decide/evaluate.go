package decide

import (
	"fmt"
	"time"

	"github.com/ainka/ainka/stages/decide/action"
	"github.com/ainka/ainka/stages/decide/expr"
	"github.com/ainka/ainka/stages/predict"
)

// Process evaluates a batch of prediction outputs in event-time order and
// appends the decisions to out, then serves the Optimize requests made
// since the last batch. It does not allocate in steady state.
func (s *Stage) Process(in []predict.Output, out []Decision) []Decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = false
	for i := range in {
		out = s.observe(&in[i], out)
	}
	return s.serve(out)
}

// Flush emits what is pending (reverts of removed policies, state changes
// asked for by the operator, Optimize requests) at the end of input.
func (s *Stage) Flush(out []Decision) []Decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
	return s.serve(s.drain(s.lastNs, out))
}

// drain appends the decisions made outside Process, dated now unless they
// carry their own time.
func (s *Stage) drain(now uint64, out []Decision) []Decision {
	for i := range s.outbox {
		if s.outbox[i].TimeNs == 0 {
			s.outbox[i].TimeNs = now
		}
	}
	out = append(out, s.outbox...)
	s.outbox = s.outbox[:0]
	return out
}

// observe is one window: bookkeeping, state machine, effect measurement,
// and policy evaluation when the cadence says so.
func (s *Stage) observe(w *predict.Output, out []Decision) []Decision {
	now := w.Vector.EndNs
	out = s.drain(now, out)
	if s.first.ok && now < s.lastNs {
		return out // out of order: event time never goes back
	}
	if !s.first.ok {
		s.first.set(now)
		s.lastEval.clear()
	}
	s.windows++
	s.lastNs = now
	s.latest, s.haveLatest = *w, true
	s.hist.add(now, &w.Vector.Values)
	env := windowEnv{w}
	out = s.step(env, out)
	out = s.measure(now, out)

	iv := s.cfg.EvalInterval
	if s.machine.state == Emergency {
		iv = s.cfg.EmergencyEvalInterval
	}
	if s.lastEval.within(now, uint64(iv)) {
		return out
	}
	s.lastEval.set(now)
	return s.evaluate(env, out)
}

// step runs the state machine on one window.
func (s *Stage) step(env windowEnv, out []Decision) []Decision {
	now := env.Time()
	next, why := s.machine.next(now, env.w, now-s.first.ns)
	if next == s.machine.state {
		return out
	}
	s.enter(next, now, why)
	return s.drain(now, out)
}

// measure finishes effect measurements whose after-window is complete.
func (s *Stage) measure(now uint64, out []Decision) []Decision {
	for _, r := range s.rules.list {
		for len(r.effect.pending) > 0 && s.effects.due(r.effect.pending[0], now) {
			p := r.effect.pending[0]
			r.effect.pending = r.effect.pending[1:]
			out = s.judge(r, p, now, out)
		}
	}
	return out
}

// judge scores one actuation of r and pauses r (reverting its action)
// when its running score falls under the effectiveness threshold.
func (s *Stage) judge(r *rule, p pendingEffect, now uint64, out []Decision) []Decision {
	c := r.c
	j, ok := s.effects.judge(p, c.obj, c.maximize)
	if !ok {
		return out // not enough data to judge either way
	}
	r.effect.add(j.score)
	out = append(out, Decision{TimeNs: now, Kind: Effect, Policy: c.Name, Priority: c.Priority, Action: c.act,
		Objective: c.obj.String(), Before: j.expected, After: j.after, Score: j.score, Effectiveness: r.effect.score})
	if r.paused || !(r.effect.score < s.cfg.EffectivenessThreshold) {
		return out
	}
	r.paused = true
	r.reason = fmt.Sprintf("ineffective: effect score %.3f < policy_effectiveness_threshold %.3g (%s %.4g -> %.4g)",
		r.effect.score, s.cfg.EffectivenessThreshold, c.obj, j.expected, j.after)
	s.log.Warn("policy paused", "policy", c.Name, "reason", r.reason)
	if r.active && r.writesKnob() {
		r.active = false
		out = append(out, Decision{TimeNs: now, Kind: Revert, Policy: c.Name, Priority: c.Priority, Action: c.act, Reason: r.reason})
	}
	return out
}

// evaluate runs every policy once on env. Policies are sorted by
// priority, so the first to claim a knob in an evaluation wins it.
func (s *Stage) evaluate(env expr.Env, out []Decision) []Decision {
	now := env.Time()
	// claimed has at most one key per policy, and max_policies bounds
	// those, so it stops growing after the first evaluations.
	s.claimed = s.claimed[:0]
	for _, r := range s.rules.list {
		if !s.runs(r) {
			continue
		}
		if r.c.prog.Eval(env, r.st) != expr.True {
			out = s.conditionClear(r, now, out)
			continue
		}
		r.clearFrom.clear()
		out = s.fire(r, env, now, out)
	}
	return out
}

// runs reports whether r is evaluated in the current state.
func (s *Stage) runs(r *rule) bool {
	switch {
	case !r.c.Enabled || r.paused:
		return false
	case s.machine.state == Emergency && !r.c.Emergency:
		return false
	case s.machine.state == Learning && r.c.predictive():
		return false
	}
	return true
}

// conditionClear reverts r's applied action once its condition has been
// false for its revert_after.
func (s *Stage) conditionClear(r *rule, now uint64, out []Decision) []Decision {
	c := r.c
	if !r.active || c.RevertAfter <= 0 {
		return out
	}
	r.clearFrom.startOnce(now)
	if !r.clearFrom.heldFor(now, uint64(c.RevertAfter)) {
		return out
	}
	r.active = false
	r.clearFrom.clear()
	return append(out, Decision{TimeNs: now, Kind: Revert, Policy: c.Name, Priority: c.Priority, Action: c.act,
		Reason: fmt.Sprintf("condition clear for %v (revert_after)", c.RevertAfter)})
}

// fire applies r, whose condition is true, unless its cooldown runs, its
// action is applied already, or its knob belongs to another policy.
func (s *Stage) fire(r *rule, env expr.Env, now uint64, out []Decision) []Decision {
	c := r.c
	if r.fired && now-r.lastFire < uint64(c.Cooldown) {
		return out
	}
	if r.active && c.act.Op == action.Set {
		return out // already applied; writing it again changes nothing
	}
	key := c.act.Key()
	if key != "" {
		if s.isClaimed(key) || s.rules.heldByHigher(r, key) {
			r.suppr++
			return out
		}
		s.claimed = append(s.claimed, key)
		s.noteWriter(r, key, now)
		if r.paused {
			return out
		}
		r.active = true
	}
	r.fired, r.lastFire = true, now
	r.acts++
	if c.prog.UsesForecast() {
		s.machine.forecastFire.set(now)
	}
	if c.hasObj {
		r.effect.pending = append(r.effect.pending, s.effects.baseline(c.obj, now))
	}
	s.decisions++
	return append(out, applyDecision(c, env, now))
}

func (s *Stage) isClaimed(key string) bool {
	for _, k := range s.claimed {
		if k == key {
			return true
		}
	}
	return false
}

// applyDecision is c's Apply at now with the condition's inputs.
func applyDecision(c *compiled, env expr.Env, now uint64) Decision {
	d := Decision{TimeNs: now, Kind: Apply, Policy: c.Name, Priority: c.Priority, Action: c.act, Condition: c.Condition}
	for _, ref := range c.prog.Refs() {
		if d.NValues == MaxValues {
			break
		}
		d.Values[d.NValues] = Value{ref.Name, c.prog.Value(ref, env)}
		d.NValues++
	}
	return d
}

// noteWriter tells the flap detector that r wrote key. When the writer
// keeps changing the policies are undoing each other: the one of lower
// priority is paused.
func (s *Stage) noteWriter(r *rule, key string, now uint64) {
	prev, n := s.flaps.note(key, r.c.Name, now)
	if prev == "" {
		return
	}
	_, other := s.rules.find(prev)
	if other == nil {
		return
	}
	loser, winner := r, other
	if other.c.Priority < r.c.Priority || (other.c.Priority == r.c.Priority && other.c.Name > r.c.Name) {
		loser, winner = other, r
	}
	loser.paused, loser.active = true, false
	loser.reason = fmt.Sprintf("flapping: %q and %q changed %s %d times within %v; %q has the lower priority",
		loser.c.Name, winner.c.Name, key, n, time.Duration(s.cfg.FlapWindow), loser.c.Name)
	s.log.Warn("policy paused", "policy", loser.c.Name, "reason", loser.reason)
	s.flaps.settle(key, winner.c.Name)
}
