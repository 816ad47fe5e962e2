package query

import (
	"context"
	"math"
	"sort"
	"time"
)

// states are the engine states by number (ainka_engine_state).
var states = []string{"learning", "optimizing", "anomaly_detection", "predictive_scaling", "emergency"}

// Host is one host's row of `fleet status`.
type Host struct {
	Host  string    `json:"host"`
	Seen  time.Time `json:"last_push"`
	State string    `json:"state"`
	Joint float64   `json:"joint_anomaly_score"`
	// Events are the records the daemon decoded since it started.
	Events float64 `json:"events"`
	// Drops are records lost on the host: ring buffer, source and stage
	// queues.
	Drops float64 `json:"drops"`
	// PushDropped are snapshots the push dropped (buffer full, rejected);
	// PushErrors its failed posts.
	PushDropped float64 `json:"push_dropped"`
	PushErrors  float64 `json:"push_errors"`
	Decisions   float64 `json:"decisions"`
	// Knobs are the knobs held changed (or, in advice mode, that would be).
	Knobs     int                `json:"knobs_changed"`
	TunerGain map[string]float64 `json:"tuner_gain_pct,omitempty"`
}

// Status is one row per host that pushed within the window, by host name.
func (c *Client) Status(ctx context.Context) ([]Host, error) {
	seen, err := c.byHost(ctx, `max by (host) (tlast_over_time(ainka_push_snapshots_total[{W}]))`)
	if err != nil {
		return nil, err
	}
	cols := []struct {
		expr string
		set  func(*Host, float64)
	}{
		{`max by (host) (last_over_time(ainka_engine_state[{W}]))`, func(h *Host, v float64) { h.State = stateName(v) }},
		{`max by (host) (last_over_time(ainka_joint_anomaly_score[{W}]))`, func(h *Host, v float64) { h.Joint = v }},
		{`sum by (host) (last_over_time(ainka_events_total[{W}]))`, func(h *Host, v float64) { h.Events = v }},
		{`sum by (host) (last_over_time({__name__=~"ainka_ringbuf_lost_total|ainka_source_dropped_total|ainka_stage_dropped_total"}[{W}]))`,
			func(h *Host, v float64) { h.Drops = v }},
		{`sum by (host) (last_over_time(ainka_push_dropped_total[{W}]))`, func(h *Host, v float64) { h.PushDropped = v }},
		{`sum by (host) (last_over_time(ainka_push_errors_total[{W}]))`, func(h *Host, v float64) { h.PushErrors = v }},
		{`sum by (host) (last_over_time(ainka_decisions_total[{W}]))`, func(h *Host, v float64) { h.Decisions = v }},
	}
	hosts := make(map[string]*Host, len(seen))
	for name, t := range seen {
		hosts[name] = &Host{Host: name, Seen: unixTime(t), State: "unknown"}
	}
	for _, col := range cols {
		m, err := c.byHost(ctx, col.expr)
		if err != nil {
			return nil, err
		}
		for name, v := range m {
			if h := hosts[name]; h != nil {
				col.set(h, v)
			}
		}
	}
	if err := c.addTuners(ctx, hosts); err != nil {
		return nil, err
	}
	changes, err := c.Changes(ctx)
	if err != nil {
		return nil, err
	}
	for _, ch := range changes {
		if h := hosts[ch.Host]; h != nil && ch.Status != "restored" {
			h.Knobs++
		}
	}
	out := make([]Host, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out, nil
}

func (c *Client) addTuners(ctx context.Context, hosts map[string]*Host) error {
	ss, err := c.Query(ctx, `last_over_time(ainka_tuner_gain_pct[{W}])`)
	if err != nil {
		return err
	}
	for _, s := range ss {
		if h := hosts[s.Labels["host"]]; h != nil {
			if h.TunerGain == nil {
				h.TunerGain = map[string]float64{}
			}
			h.TunerGain[s.Labels["tuner"]] = s.Value
		}
	}
	return nil
}

func stateName(v float64) string {
	if i := int(v); v == float64(i) && i >= 0 && i < len(states) {
		return states[i]
	}
	return "unknown"
}

func unixTime(sec float64) time.Time {
	s, f := math.Modf(sec)
	return time.Unix(int64(s), int64(f*1e9)).UTC()
}

// Change is one knob a host holds changed: `fleet changes`.
type Change struct {
	Host     string `json:"host"`
	Knob     string `json:"knob"`
	Policy   string `json:"policy"` // a policy's name, or tuner:NAME
	Original string `json:"original"`
	Current  string `json:"current"`
	// Status is applied (written), dry_run (advice: it would be) or
	// restored.
	Status string    `json:"status"`
	Since  time.Time `json:"since"`
}

// Changes is every knob each host holds changed, the latest change of
// each (a knob changed again starts a new series; the one pushed last
// is the knob's present), by host and knob.
func (c *Client) Changes(ctx context.Context) ([]Change, error) {
	last, err := c.Query(ctx, `tlast_over_time(ainka_knob_change[{W}])`)
	if err != nil {
		return nil, err
	}
	since, err := c.Query(ctx, `last_over_time(ainka_knob_change[{W}])`)
	if err != nil {
		return nil, err
	}
	at := map[string]float64{}
	for _, s := range since {
		at[seriesKey(s.Labels)] = s.Value
	}
	type best struct {
		ch   Change
		seen float64
	}
	latest := map[[2]string]best{}
	for _, s := range last {
		l := s.Labels
		k := [2]string{l["host"], l["knob"]}
		if b, ok := latest[k]; ok && b.seen >= s.Value {
			continue
		}
		latest[k] = best{seen: s.Value, ch: Change{Host: l["host"], Knob: l["knob"], Policy: l["policy"], Original: l["original"],
			Current: l["current"], Status: l["status"], Since: unixTime(at[seriesKey(l)])}}
	}
	out := make([]Change, 0, len(latest))
	for _, b := range latest {
		out = append(out, b.ch)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		return out[i].Knob < out[j].Knob
	})
	return out, nil
}

func seriesKey(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		if k != "__name__" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b []byte
	for _, k := range keys {
		b = append(b, k...)
		b = append(b, 0)
		b = append(b, l[k]...)
		b = append(b, 0)
	}
	return string(b)
}

// Anomaly is one host's row of `fleet anomalies`.
type Anomaly struct {
	Host  string  `json:"host"`
	State string  `json:"state"`
	Joint float64 `json:"joint_anomaly_score"`
	// Peak is the highest joint score within the window.
	Peak float64 `json:"peak_joint_anomaly_score"`
	// Top are the features scoring highest now, at most three.
	Top []Feature `json:"top_features"`
}

// Feature is a feature's anomaly score.
type Feature struct {
	Name  string  `json:"feature"`
	Score float64 `json:"score"`
}

// Anomalies is one row per host, the most anomalous first.
func (c *Client) Anomalies(ctx context.Context) ([]Anomaly, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	peak, err := c.byHost(ctx, `max by (host) (max_over_time(ainka_joint_anomaly_score[{W}]))`)
	if err != nil {
		return nil, err
	}
	scores, err := c.Query(ctx, `last_over_time(ainka_anomaly_score[{W}]) > 0`)
	if err != nil {
		return nil, err
	}
	top := map[string][]Feature{}
	for _, s := range scores {
		top[s.Labels["host"]] = append(top[s.Labels["host"]], Feature{Name: s.Labels["feature"], Score: s.Value})
	}
	out := make([]Anomaly, 0, len(st))
	for _, h := range st {
		fs := top[h.Host]
		sort.Slice(fs, func(i, j int) bool {
			return fs[i].Score > fs[j].Score || fs[i].Score == fs[j].Score && fs[i].Name < fs[j].Name
		})
		out = append(out, Anomaly{Host: h.Host, State: h.State, Joint: h.Joint, Peak: peak[h.Host], Top: fs[:min(3, len(fs))]})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Joint > out[j].Joint })
	return out, nil
}
