package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ainka/ainka/control"
)

// output prints answers as aligned tables, or as JSON with --json.
type output struct {
	w    io.Writer
	json bool
}

func (o *output) printJSON(v any) error {
	enc := json.NewEncoder(o.w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (o *output) table() *tabwriter.Writer {
	return tabwriter.NewWriter(o.w, 0, 0, 2, ' ', 0)
}

// done prints a one-line confirmation, or v as JSON.
func (o *output) done(v any, format string, args ...any) error {
	if o.json {
		return o.printJSON(v)
	}
	_, err := fmt.Fprintf(o.w, format+"\n", args...)
	return err
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (o *output) status(st control.Status) error {
	if o.json {
		return o.printJSON(st)
	}
	tw := o.table()
	mod := "not loaded"
	if st.KernelModule.Loaded {
		mod = "loaded"
		if st.KernelModule.State != "" {
			mod += " (" + st.KernelModule.State + ")"
		}
	}
	if d := time.Duration(st.Learning.StateSinceSec * float64(time.Second)); d > 0 {
		fmt.Fprintf(tw, "state:\t%s (for %s)\n", st.State, d.Round(time.Second))
	} else {
		fmt.Fprintf(tw, "state:\t%s\n", st.State)
	}
	fmt.Fprintf(tw, "mode:\t%s\n", st.Mode)
	fmt.Fprintf(tw, "pid:\t%d\n", st.PID)
	fmt.Fprintf(tw, "uptime:\t%s\n", (time.Duration(st.UptimeSec) * time.Second).String())
	fmt.Fprintf(tw, "emergency:\t%s\n", onOff(st.Emergency))
	fmt.Fprintf(tw, "dry-run:\t%s\n", yesNo(st.DryRun))
	fmt.Fprintf(tw, "kernel module:\t%s\n", mod)
	fmt.Fprintf(tw, "policies:\t%d\n", st.Policies)
	if st.Version != "" {
		fmt.Fprintf(tw, "version:\t%s\n", st.Version)
	}
	fmt.Fprintf(tw, "learning:\t%d windows, %d of %d anomaly detectors past warm-up\n", st.Learning.Windows,
		st.Learning.DetectorsWarm, st.Learning.Detectors)
	fmt.Fprintf(tw, "knobs changed:\t%d\n", len(st.Knobs))
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := o.knobs(st.Knobs); err != nil {
		return err
	}
	if len(st.Stages) > 0 {
		fmt.Fprintln(o.w)
		tw = o.table()
		fmt.Fprintln(tw, "STAGE\tIN/S\tOUT/S\tDROPPED/S\tIN\tOUT\tDROPPED\tQUEUE")
		for _, s := range st.Stages {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d/%d\n", s.Name, rate(s.InPerSec), rate(s.OutPerSec),
				rate(s.DropPerSec), s.In, s.Out, s.Dropped, s.QueueLen, s.QueueCap)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(st.Ring) > 0 {
		fmt.Fprintln(o.w)
		tw = o.table()
		fmt.Fprintln(tw, "KIND\tSEEN\tEMITTED\tRING LOST")
		for _, k := range st.Ring {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", k.Kind, k.Seen, k.Emitted, k.Lost)
		}
		return tw.Flush()
	}
	return nil
}

func rate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2fM", r/1e6)
	case r >= 1e4:
		return fmt.Sprintf("%.1fk", r/1e3)
	default:
		return strconv.FormatFloat(math.Round(r*10)/10, 'f', -1, 64)
	}
}

// sample is one line of the Prometheus text format.
type sample struct {
	Name   string  `json:"name"`
	Labels string  `json:"labels,omitempty"`
	Value  float64 `json:"value"`
}

// summaryExtra are the non-AINKA metrics worth a line in the summary.
var summaryExtra = map[string]bool{
	"process_resident_memory_bytes": true, "process_cpu_seconds_total": true,
	"go_goroutines": true, "go_memstats_heap_inuse_bytes": true, "process_open_fds": true,
}

func parseMetrics(text string) []sample {
	var out []sample
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		// name{labels} value [timestamp]; label values may hold spaces.
		var name, labels, rest string
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				continue
			}
			name, labels, rest = line[:i], line[i+1:j], strings.TrimSpace(line[j+1:])
		} else {
			name, rest, _ = strings.Cut(line, " ")
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		out = append(out, sample{Name: name, Labels: labels, Value: v})
	}
	return out
}

func (o *output) metrics(text string, raw bool) error {
	if raw {
		_, err := io.WriteString(o.w, text)
		return err
	}
	var keep []sample
	for _, s := range histogramQuantiles(parseMetrics(text)) {
		if strings.HasPrefix(s.Name, "ainka_") || summaryExtra[s.Name] {
			keep = append(keep, s)
		}
	}
	sort.SliceStable(keep, func(i, j int) bool {
		ai, aj := strings.HasPrefix(keep[i].Name, "ainka_"), strings.HasPrefix(keep[j].Name, "ainka_")
		if ai != aj {
			return ai
		}
		if keep[i].Name != keep[j].Name {
			return keep[i].Name < keep[j].Name
		}
		return keep[i].Labels < keep[j].Labels
	})
	if o.json {
		if keep == nil {
			keep = []sample{}
		}
		return o.printJSON(keep)
	}
	tw := o.table()
	fmt.Fprintln(tw, "METRIC\tLABELS\tVALUE")
	for _, s := range keep {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, strings.ReplaceAll(s.Labels, `"`, ""), metricValue(s))
	}
	return tw.Flush()
}

func metricValue(s sample) string {
	if strings.HasSuffix(s.Name, "_seconds") && strings.Contains(s.Labels, "quantile=") {
		return seconds(s.Value)
	}
	if strings.HasSuffix(s.Name, "_ratio") {
		return strconv.FormatFloat(100*s.Value, 'f', 1, 64) + "%"
	}
	if strings.HasSuffix(s.Name, "_bytes") && s.Value >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", s.Value/(1<<20))
	}
	if s.Value == math.Trunc(s.Value) && math.Abs(s.Value) < 1e15 {
		return strconv.FormatInt(int64(s.Value), 10)
	}
	return strconv.FormatFloat(s.Value, 'g', 6, 64)
}

func (o *output) logEntry(e control.LogEntry) error {
	if o.json {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(o.w, "%s\n", b)
		return err
	}
	var b strings.Builder
	b.WriteString(e.Time.Local().Format("2006-01-02T15:04:05.000Z07:00"))
	fmt.Fprintf(&b, " %-5s %s", e.Level, e.Msg)
	keys := make([]string, 0, len(e.Attrs))
	for k := range e.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := fmt.Sprint(e.Attrs[k])
		if strings.ContainsAny(v, " \t\"=") || v == "" {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(&b, " %s=%s", k, v)
	}
	b.WriteByte('\n')
	_, err := io.WriteString(o.w, b.String())
	return err
}

func (o *output) policies(ps []control.Policy) error {
	if o.json {
		if ps == nil {
			ps = []control.Policy{}
		}
		return o.printJSON(ps)
	}
	if len(ps) == 0 {
		_, err := fmt.Fprintln(o.w, "no policies")
		return err
	}
	tw := o.table()
	fmt.Fprintln(tw, "NAME\tPRIORITY\tENABLED\tSTATE\tSOURCE\tEFFECTIVENESS\tFIRED\tCONDITION\tACTION")
	for _, p := range ps {
		state := p.State
		if p.Reason != "" {
			state += " (" + p.Reason + ")"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%.2f\t%d\t%s\t%s\n", p.Name, p.Priority, yesNo(p.Enabled),
			dash(state), dash(p.Source), p.Effectiveness, p.Fired, p.Condition, p.Action)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (o *output) optimize(r control.OptimizeResult) error {
	if o.json {
		return o.printJSON(r)
	}
	fmt.Fprintf(o.w, "state: %s, dry-run: %s\n", r.State, yesNo(r.DryRun))
	if len(r.Decisions) == 0 && len(r.Policies) == 0 {
		_, err := fmt.Fprintln(o.w, "no policy evaluated")
		return err
	}
	if len(r.Policies) > 0 {
		tw := o.table()
		fmt.Fprintln(tw, "POLICY\tMATCHED\tWHY")
		for _, p := range r.Policies {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Policy, yesNo(p.Matched), dash(p.Why))
		}
		if err := tw.Flush(); err != nil || len(r.Decisions) == 0 {
			return err
		}
		fmt.Fprintln(o.w)
	}
	tw := o.table()
	fmt.Fprintln(tw, "POLICY\tMATCHED\tACTION\tCHANGE\tAPPLIED\tREASON")
	for _, d := range r.Decisions {
		var cs []string
		for _, c := range d.Changes {
			cs = append(cs, fmt.Sprintf("%s: %s -> %s", c.Knob, c.From, c.To))
		}
		change := dash(strings.Join(cs, "; "))
		applied := yesNo(d.Applied)
		if d.Error != "" {
			applied = "error: " + d.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Policy, yesNo(d.Matched), dash(d.Action), change, applied, dash(d.Reason))
	}
	return tw.Flush()
}

func (o *output) changes(title string, cs []control.Change) error {
	if len(cs) == 0 {
		_, err := fmt.Fprintf(o.w, "%s: none\n", title)
		return err
	}
	fmt.Fprintf(o.w, "%s:\n", title)
	tw := o.table()
	fmt.Fprintln(tw, "KNOB\tFROM\tTO")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Knob, c.From, c.To)
	}
	return tw.Flush()
}

func (o *output) reset(r control.ResetResult) error {
	if o.json {
		return o.printJSON(r)
	}
	cleared := "nothing"
	if len(r.Cleared) > 0 {
		cleared = strings.Join(r.Cleared, ", ")
	}
	fmt.Fprintf(o.w, "learned state cleared: %s\n", cleared)
	return o.changes("reverted", r.Reverted)
}

func (o *output) rollback(r control.RollbackResult, printOnly bool) error {
	if o.json {
		return o.printJSON(r)
	}
	if printOnly {
		if len(r.Commands) == 0 {
			_, err := fmt.Fprintln(o.w, "# nothing to roll back")
			return err
		}
		for _, c := range r.Commands {
			if _, err := fmt.Fprintln(o.w, c); err != nil {
				return err
			}
		}
		return nil
	}
	return o.changes("restored", r.Restored)
}
