package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Views are what `ainka-cli fleet` can show.
var Views = []string{"status", "changes", "anomalies"}

// ErrUnknownView is a view not in Views.
var ErrUnknownView = errors.New("unknown fleet view")

// Print queries view and writes it to w as a table, or as JSON.
func (c *Client) Print(ctx context.Context, w io.Writer, view string, asJSON bool) error {
	var v any
	var table func(*tabwriter.Writer)
	switch view {
	case "status":
		hs, err := c.Status(ctx)
		v, table = hs, func(tw *tabwriter.Writer) { statusTable(tw, hs) }
		if err != nil {
			return err
		}
	case "changes":
		cs, err := c.Changes(ctx)
		v, table = cs, func(tw *tabwriter.Writer) { changesTable(tw, cs) }
		if err != nil {
			return err
		}
	case "anomalies":
		as, err := c.Anomalies(ctx)
		v, table = as, func(tw *tabwriter.Writer) { anomaliesTable(tw, as) }
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w %q: want %s", ErrUnknownView, view, strings.Join(Views, ", "))
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

func statusTable(tw *tabwriter.Writer, hs []Host) {
	fmt.Fprintln(tw, "HOST\tLAST PUSH\tSTATE\tJOINT\tEVENTS\tDROPS\tPUSH DROPS\tPUSH ERRORS\tDECISIONS\tKNOBS\tTUNER GAINS")
	for _, h := range hs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.3f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%d\t%s\n", h.Host, age(h.Seen), h.State, h.Joint,
			h.Events, h.Drops, h.PushDropped, h.PushErrors, h.Decisions, h.Knobs, gains(h.TunerGain))
	}
	if len(hs) == 0 {
		fmt.Fprintln(tw, "(no host pushed within the window)")
	}
}

func changesTable(tw *tabwriter.Writer, cs []Change) {
	fmt.Fprintln(tw, "HOST\tKNOB\tORIGINAL → CURRENT\tBY\tSTATUS\tSINCE")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s → %s\t%s\t%s\t%s\n", c.Host, c.Knob, c.Original, c.Current, c.Policy, c.Status, c.Since.Format(time.RFC3339))
	}
	if len(cs) == 0 {
		fmt.Fprintln(tw, "(no host holds a knob changed)")
	}
}

func anomaliesTable(tw *tabwriter.Writer, as []Anomaly) {
	fmt.Fprintln(tw, "HOST\tSTATE\tJOINT\tPEAK\tTOP FEATURES")
	for _, a := range as {
		var top []string
		for _, f := range a.Top {
			top = append(top, fmt.Sprintf("%s %.2f", f.Name, f.Score))
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.3f\t%s\n", a.Host, a.State, a.Joint, a.Peak, strings.Join(top, ", "))
	}
	if len(as) == 0 {
		fmt.Fprintln(tw, "(no host pushed within the window)")
	}
}

func age(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return time.Since(t).Round(time.Second).String() + " ago"
}

func gains(m map[string]float64) string {
	if len(m) == 0 {
		return "-"
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %+.1f%%", n, m[n]))
	}
	return strings.Join(parts, ", ")
}
