package view

import (
	"fmt"
	"strings"
	"time"

	"github.com/ainka/ainka/stages/predict/alarm"
)

// Render draws the snapshot as a screen of at most height lines (0: no
// limit) and width columns (at least 60): a header with the engine's state,
// event rates and the pipeline, the features that matter now, then the
// last decisions, knobs and changes, and the log's last warnings.
func Render(s Snapshot, width, height int, st Style) string {
	width = max(width, 60)
	var top []string
	top = append(top, header(s, width, st)...)
	top = append(top, "")
	top = append(top, flows(s, width, st)...)
	top = append(top, "")
	bottom := actions(s, width, st)
	active := activeFeatures(s.Features)
	rows := len(active)
	if height > 0 {
		rows = min(rows, max(height-len(top)-len(bottom)-2, 3))
	}
	lines := append(top, featureLines(active, len(s.Features)-len(active), rows, width, st)...)
	lines = append(lines, "")
	lines = append(lines, bottom...)
	if height > 0 && len(lines) > height {
		lines = lines[:height]
	}
	return strings.Join(lines, "\n")
}

func header(s Snapshot, width int, st Style) []string {
	state := s.Engine.State
	if state == "" {
		state = "starting"
	}
	var since string
	if s.Engine.SinceNs != 0 && s.EventTimeNs >= s.Engine.SinceNs {
		since = " for " + duration(time.Duration(s.EventTimeNs-s.Engine.SinceNs))
	}
	stateText := st.Good(state) + since
	if s.Engine.Emergency {
		stateText = st.Bad("EMERGENCY") + since
	} else if state == "anomaly_detection" {
		stateText = st.Warn(state) + since
	}
	mode := s.Mode
	if s.DryRun {
		mode += ", advice only"
	}
	l1 := fmt.Sprintf("%s  %s  up %s  state %s  windows %d  policies %d  decisions %d", st.Title("AINKA"), mode,
		duration(time.Duration(s.Uptime*float64(time.Second))), stateText, s.Windows, s.Engine.Policies, s.Engine.Decisions)
	what := "host alarm"
	if s.Regime != "" {
		what = "regime " + st.Head(s.Regime) + ", host alarm"
	}
	l2 := fmt.Sprintf("%s %s  %s  joint %s%s", what, st.score(s.Alarm, num(s.Alarm)), SparklineRange(s.AlarmHist, min(histLen, width-50), 0, 1),
		num(s.Joint), alarmWhy(s))
	out := []string{l1, l2}
	if s.Engine.ReloadError != "" {
		out = append(out, st.Bad(left("policy file: "+s.Engine.ReloadError, width)))
	}
	return out
}

// flows is event kinds on the left and pipeline stages on the right (or
// below, on a narrow screen).
func flows(s Snapshot, width int, st Style) []string {
	ev := []string{st.Head(left("EVENTS", 16) + right("/s", 8) + right("total", 8) + right("lost/s", 8) + right("drop/s", 8))}
	for _, k := range s.Kinds {
		drops := right(si(float64(k.LostPerSec)), 8) + right(si(float64(k.DropsPerSec)), 8)
		if k.LostPerSec > 0 || k.DropsPerSec > 0 {
			drops = st.Bad(drops)
		}
		ev = append(ev, left(k.Kind, 16)+right(si(float64(k.PerSec)), 8)+right(si(float64(k.Total)), 8)+drops)
	}
	if len(s.Kinds) == 0 {
		ev = append(ev, st.Dim("no events yet"))
	}
	if s.RingFill.Valid() {
		fill := fmt.Sprintf("%.0f%%", 100*float64(s.RingFill))
		if s.RingFill >= 0.75 {
			fill = st.Bad(fill)
		}
		ev = append(ev, left("ring buffer", 16)+fill+st.Dim(" full at peak"))
	}
	pl := []string{st.Head(left("PIPELINE", 11) + right("in/s", 8) + right("drops", 7) + right("queue", 7))}
	for _, g := range s.Stages {
		q := right(fmt.Sprintf("%.0f%%", 100*g.Fill), 7)
		if g.Fill >= 0.75 {
			q = st.Bad(q)
		}
		drops := right(si(float64(g.Dropped)), 7)
		if g.Dropped > 0 {
			drops = st.Bad(drops)
		}
		pl = append(pl, left(g.Name, 11)+right(si(float64(g.InPerSec)), 8)+drops+q)
	}
	const evWidth, gap = 48, 4
	if width < evWidth+gap+33 {
		return append(ev, pl...)
	}
	out := make([]string, max(len(ev), len(pl)))
	for i := range out {
		l := strings.Repeat(" ", evWidth)
		if i < len(ev) {
			l = ev[i] + strings.Repeat(" ", evWidth-visible(ev[i]))
		}
		if i < len(pl) {
			l += strings.Repeat(" ", gap) + pl[i]
		}
		out[i] = l
	}
	return out
}

// activeFeatures leaves out the features that have been zero or missing
// over the whole history (no network traffic, no block I/O): they say
// nothing now and would push the ones that do off the screen.
func activeFeatures(fs []Feature) []Feature {
	var out []Feature
	for _, f := range fs {
		for _, p := range append(f.History, f.Value) {
			if p.Valid() && p != 0 {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

func featureLines(fs []Feature, idle, rows, width int, st Style) []string {
	const fixed = 24 + 9 + 7 + 9 + 20 + 2
	spark := min(histLen, max(width-fixed, 0))
	head := st.Head(left("FEATURES", 24) + right("now", 9) + right("score", 7) +
		right("forecast", 9) + right("interval", 20) + "  " + "last 60 s")
	if idle > 0 {
		head += st.Dim(fmt.Sprintf(" · %d idle not shown", idle))
	}
	out := []string{head}
	if len(fs) == 0 {
		return append(out, st.Dim("no window scored yet"))
	}
	for _, f := range fs[:rows] {
		iv := "-"
		if f.Lo.Valid() && f.Hi.Valid() {
			iv = "[" + num(f.Lo) + " … " + num(f.Hi) + "]"
		}
		sc := "-"
		if f.Score.Valid() {
			sc = fmt.Sprintf("%.2f", float64(f.Score))
		}
		out = append(out, left(f.Name, 24)+right(num(f.Value), 9)+st.score(f.Score, right(sc, 7))+
			right(num(f.Forecast), 9)+st.Dim(right(iv, 20))+"  "+Sparkline(f.History, spark))
	}
	return out
}

// actions are the last decisions, the knobs held changed and the last
// changes, and recent warnings.
func actions(s Snapshot, width int, st Style) []string {
	out := []string{st.Head("DECISIONS (newest last)")}
	for _, d := range s.Decisions {
		who := d.Policy
		if d.Action != "" {
			who += " " + d.Action
		}
		out = append(out, st.Dim(right(ago(s.EventTimeNs, d.TimeNs), 11))+"  "+left(d.Kind, 7)+" "+
			left(strings.TrimSpace(who)+": "+d.Why, width-21))
	}
	if len(s.Decisions) == 0 {
		out = append(out, st.Dim("none yet: no policy's condition has held"))
	}
	out = append(out, tunerLines(s, width, st)...)
	out = append(out, "", st.Head(fmt.Sprintf("KNOBS CHANGED (%d held)", len(s.Knobs))))
	for _, k := range s.Knobs {
		out = append(out, left(fmt.Sprintf("%s  %s → %s  by %s  since %s", k.Knob, k.Original, k.Value, k.Policy, k.Since), width))
	}
	for _, c := range s.Changes {
		status := left(c.Status, 12)
		switch c.Status {
		case "failed", "rejected", "yielded":
			status = st.Warn(status)
		case "applied", "restored":
			status = st.Good(status)
		}
		out = append(out, st.Dim(right(ago(s.EventTimeNs, c.TimeNs), 11))+"  "+status+c.Line(width-25))
	}
	if len(s.Knobs) == 0 && len(s.Changes) == 0 {
		out = append(out, st.Dim("nothing changed"))
	}
	for _, l := range s.Log {
		out = append(out, st.Warn(left(l, width)))
	}
	return out
}

// tunerLines are the tuners, one line each: what each follows, the
// setting it tries or keeps, and the gain it measured.
func tunerLines(s Snapshot, width int, st Style) []string {
	if len(s.Tuners) == 0 {
		return nil
	}
	regime := s.Regime
	if regime == "" {
		regime = "not classified yet"
	}
	out := []string{"", st.Head("TUNERS") + st.Dim(" (workload regime "+regime+")")}
	for _, t := range s.Tuners {
		what := t.State
		if t.Target != "" {
			what += " " + t.Target
			if t.Setting != "" {
				what += " at " + t.Setting
			}
		}
		line := left(fmt.Sprintf("%s  %s  gain %+.1f%%  steps %d  changes %d  %s", left(t.Name, 10), left(t.Mode+", "+what, 48),
			t.GainPct, t.Steps, t.Changes, t.Why), width)
		if t.State == "idle" {
			line = st.Dim(line)
		}
		out = append(out, line)
	}
	return out
}

// visible is the width of a styled string: its runes outside ANSI escape
// sequences.
func visible(s string) int {
	n, esc := 0, false
	for _, r := range s {
		switch {
		case esc:
			esc = !(r >= '@' && r <= '~' && r != '[')
		case r == 0x1b:
			esc = true
		default:
			n++
		}
	}
	return n
}

// alarmWhy is the host alarm's one-line why: the features that drove it.
func alarmWhy(s Snapshot) string {
	switch {
	case s.AlarmWhy == "":
		return ""
	case s.Alarm >= alarm.Enter:
		return "  ALARM: " + s.AlarmWhy
	}
	return "  closest: " + s.AlarmWhy
}
