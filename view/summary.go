package view

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// Summarizer writes a few lines per snapshot for logs and pipes, where a
// redrawn screen would be noise: the state, total rates and losses, the
// three most anomalous features, and the decisions and changes made since
// its previous summary.
type Summarizer struct {
	lastDecision, lastChange uint64 // event time of the newest printed
}

// Write writes one summary of s to w.
func (z *Summarizer) Write(w io.Writer, s Snapshot) error {
	var rate, lost, drop float64
	for _, k := range s.Kinds {
		rate, lost, drop = rate+float64(k.PerSec), lost+float64(k.LostPerSec), drop+float64(k.DropsPerSec)
	}
	state := s.Engine.State
	if s.Regime != "" {
		state += ", regime " + s.Regime
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ainka %s %s: state %s, host alarm %s%s, joint anomaly %s, %s events/s (lost %s/s, dropped %s/s), windows %d, knobs held %d\n",
		duration(time.Duration(s.Uptime*float64(time.Second))), s.Mode, state, num(s.Alarm), alarmWhy(s), num(s.Joint), si(rate), si(lost), si(drop),
		s.Windows, len(s.Knobs))
	var top []string
	for _, f := range s.Features[:min(3, len(s.Features))] {
		top = append(top, fmt.Sprintf("%s %s (score %s, forecast %s)", f.Name, num(f.Value), num(f.Score), num(f.Forecast)))
	}
	if len(top) > 0 {
		fmt.Fprintf(&b, "  most anomalous: %s\n", strings.Join(top, "; "))
	}
	for _, d := range s.Decisions {
		if d.TimeNs > z.lastDecision {
			fmt.Fprintf(&b, "  decision %s %s %s: %s\n", d.Kind, d.Policy, d.Action, d.Why)
		}
	}
	for _, c := range s.Changes {
		if c.TimeNs > z.lastChange {
			fmt.Fprintf(&b, "  change %s %s\n", c.Status, c.Text())
		}
	}
	if n := len(s.Decisions); n > 0 {
		z.lastDecision = max(z.lastDecision, s.Decisions[n-1].TimeNs)
	}
	if n := len(s.Changes); n > 0 {
		z.lastChange = max(z.lastChange, s.Changes[n-1].TimeNs)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Summarize writes a summary every period and a last one when ctx ends.
func Summarize(ctx context.Context, rec *Recorder, every time.Duration, w io.Writer) error {
	var z Summarizer
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return z.Write(w, rec.Snapshot())
		case <-t.C:
			if err := z.Write(w, rec.Snapshot()); err != nil {
				return err
			}
		}
	}
}
