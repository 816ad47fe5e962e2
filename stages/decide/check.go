package decide

import (
	"fmt"
	"time"

	"github.com/ainka/ainka/stages/decide/action"
	"github.com/ainka/ainka/stages/decide/expr"
)

// Check is one policy's answer to an Optimize request: whether it matched
// (its condition held and it decided), and why or why not.
type Check struct {
	Policy  string
	Matched bool
	Why     string
}

// Checks returns every policy's check for the request, once Wait has
// returned its decisions.
func (r *Request) Checks() []Check { return r.checks }

// check says for every policy whether the evaluation on env, whose
// decisions are ds, made it decide, and if not which term of its
// condition was false or unknown, or what else held it back. It runs
// right after evaluate on the same window, so Eval finds each condition's
// "for" state as evaluate left it and leaves it so.
func (s *Stage) check(env expr.Env, ds []Decision) []Check {
	now := env.Time()
	out := make([]Check, 0, len(s.rules.list))
	for _, r := range s.rules.list {
		c := Check{Policy: r.c.Name}
		for i := range ds {
			if ds[i].Policy == r.c.Name && ds[i].Kind == Apply {
				c.Matched, c.Why = true, ds[i].Explain()
			}
		}
		if !c.Matched {
			c.Why = s.whyNot(r, env, now)
		}
		out = append(out, c)
	}
	return out
}

// whyNot is why r made no decision on env.
func (s *Stage) whyNot(r *rule, env expr.Env, now uint64) string {
	c := r.c
	switch {
	case !c.Enabled:
		return "disabled"
	case r.paused:
		return "paused: " + r.reason
	case s.machine.state == Emergency && !c.Emergency:
		return "only emergency policies run in emergency mode"
	case s.machine.state == Learning && c.predictive():
		return "reads anomaly scores or forecasts: waits until learning ends"
	}
	if c.prog.Eval(env, r.st) != expr.True {
		return c.prog.WhyNot(env)
	}
	switch {
	case r.fired && now-r.lastFire < uint64(c.Cooldown):
		return fmt.Sprintf("condition holds; in cooldown for %v more", time.Duration(uint64(c.Cooldown)-(now-r.lastFire)))
	case r.active && c.act.Op == action.Set:
		return "condition holds; its action is applied already"
	}
	return "condition holds; its knob is held by a higher-priority policy"
}
