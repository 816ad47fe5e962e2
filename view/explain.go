package view

import "strings"

// Bounds of the per-knob history Explain answers from: the most recent
// changes of each knob, for at most this many knobs (AINKA's allowlist is
// far smaller).
const (
	historyPerKnob = 32
	historyKnobs   = 1024
)

// remember keeps c in its knob's history; r.mu is held.
func (r *Recorder) remember(c Change) {
	if c.Knob == "" {
		return
	}
	if r.history == nil {
		r.history = map[string][]Change{}
	}
	h, ok := r.history[c.Knob]
	if !ok && len(r.history) >= historyKnobs {
		return
	}
	h = append(h, c)
	if len(h) > historyPerKnob {
		h = append(h[:0], h[len(h)-historyPerKnob:]...)
	}
	r.history[c.Knob] = h
}

// Explanation is every change AINKA made (or, advice only, would have
// made) to one knob since the daemon started, oldest first, and the
// change it holds now, if any.
type Explanation struct {
	Knob        string   `json:"knob"`
	EventTimeNs uint64   `json:"event_time_ns"` // now, for "how long ago"
	Held        *Knob    `json:"held,omitempty"`
	Changes     []Change `json:"changes"`
}

// Explain answers for knob: its journal key ("sysctl:vm.swappiness") or
// the part after the kind ("vm.swappiness"). ok is false when no knob of
// that name was changed or held.
func (r *Recorder) Explain(knob string) (e Explanation, ok bool) {
	match := func(key string) bool { return key == knob || strings.HasSuffix(key, ":"+knob) }
	if r.src.Knobs != nil {
		for _, c := range r.src.Knobs() {
			if match(c.Key) {
				e.Held = &Knob{Knob: c.Key, Original: c.Original, Value: c.Value, Policy: c.Policy, Why: c.Why, Since: c.Since}
				e.Knob = c.Key
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e.EventTimeNs = r.last.Vector.EndNs
	for key, h := range r.history {
		if match(key) {
			e.Knob = key
			e.Changes = append(e.Changes, h...)
		}
	}
	if e.Changes == nil {
		e.Changes = []Change{}
	}
	return e, e.Knob != ""
}
