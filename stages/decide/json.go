package decide

import (
	"encoding/json"
	"math"
	"time"
)

// NewPolicy returns a policy with the file defaults (enabled, priority
// DefaultPriority, cooldown DefaultCooldown), for the control API's
// "policy add NAME --condition EXPR --action ACTION".
func NewPolicy(name, condition, action string) Policy {
	return Policy{Name: name, Condition: condition, Action: action, Enabled: true,
		Priority: DefaultPriority, Cooldown: DefaultCooldown, Origin: "api"}
}

// MarshalJSON writes the decision as AppendJSON does (NaN as null).
func (d Decision) MarshalJSON() ([]byte, error) { return d.AppendJSON(nil), nil }

// MarshalJSON writes a policy status for the control API: durations as
// strings ("30s"), an unknown effectiveness as null.
func (p PolicyStatus) MarshalJSON() ([]byte, error) {
	var eff *float64
	if !math.IsNaN(p.Effectiveness) && !math.IsInf(p.Effectiveness, 0) {
		eff = &p.Effectiveness
	}
	dur := func(d time.Duration) string {
		if d == 0 {
			return ""
		}
		return d.String()
	}
	return json.Marshal(struct {
		Name          string   `json:"name"`
		Condition     string   `json:"condition"`
		Action        string   `json:"action"`
		Priority      int      `json:"priority"`
		Cooldown      string   `json:"cooldown,omitempty"`
		Enabled       bool     `json:"enabled"`
		Objective     string   `json:"objective,omitempty"`
		Emergency     bool     `json:"emergency,omitempty"`
		RevertAfter   string   `json:"revert_after,omitempty"`
		Description   string   `json:"description,omitempty"`
		Origin        string   `json:"origin,omitempty"`
		State         string   `json:"state"`
		PausedReason  string   `json:"paused_reason,omitempty"`
		Effectiveness *float64 `json:"effectiveness"`
		Measurements  int      `json:"measurements"`
		Actuations    int      `json:"actuations"`
		Suppressed    int      `json:"suppressed"`
		LastFiredNs   uint64   `json:"last_fired_ns,omitempty"`
		Conflicts     []string `json:"conflicts,omitempty"`
		Knob          string   `json:"knob,omitempty"`
	}{p.Name, p.Condition, p.Action, p.Priority, dur(p.Cooldown), p.Enabled, p.Objective, p.Emergency,
		dur(p.RevertAfter), p.Description, p.Origin, p.State, p.PausedReason, eff, p.Measurements,
		p.Actuations, p.Suppressed, p.LastFiredNs, p.Conflicts, p.Knob})
}
