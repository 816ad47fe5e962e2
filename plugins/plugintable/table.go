package plugintable

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ainka/ainka/control"
)

// Write prints plugin statuses as `ainka plugin list` and `ainka-cli
// plugins` show them: the logic plugins, then the probe plugins, each a
// table. counts adds what only a running daemon knows: calls, outputs and
// CPU time of logic plugins, records seen, emitted, lost and dropped of
// probe plugins.
func Write(w io.Writer, ps []control.Plugin, counts bool) error {
	var logic, probes []control.Plugin
	for _, p := range ps {
		if p.Kind == control.PluginProbe {
			probes = append(probes, p)
		} else {
			logic = append(logic, p)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(logic) > 0 {
		writeLogic(tw, logic, counts)
	}
	if len(probes) > 0 {
		if len(logic) > 0 {
			fmt.Fprintln(tw)
		}
		writeProbes(tw, probes, counts)
	}
	return tw.Flush()
}

func writeLogic(w io.Writer, ps []control.Plugin, counts bool) {
	head := []string{"NAME", "VERSION", "KIND", "STATE"}
	if counts {
		head = append(head, "CALLS", "OUTPUTS", "CPU")
	}
	writeRow(w, append(head, "PATH", "REASON"))
	for _, p := range ps {
		row := []string{dash(p.Name), dash(p.Version), dash(p.Kind), p.State}
		if counts {
			row = append(row, fmt.Sprint(p.Calls), fmt.Sprint(p.Outputs), cpu(p.CPUSec))
		}
		writeRow(w, append(row, p.Path, p.Reason))
	}
}

func writeProbes(w io.Writer, ps []control.Plugin, counts bool) {
	head := []string{"NAME", "VERSION", "KIND", "STATE", "FORM", "PROGRAMS"}
	if counts {
		head = append(head, "SEEN", "EMITTED", "LOST", "DROPPED", "RUNS", "CPU")
	}
	writeRow(w, append(head, "FEATURES", "PATH", "REASON"))
	for _, p := range ps {
		form, progs := "-", "-"
		if p.Probe != nil {
			form, progs = p.Probe.Form, strings.Join(p.Probe.Programs, ", ")
		}
		row := []string{dash(p.Name), dash(p.Version), p.Kind, p.State, form, progs}
		switch {
		case !counts:
		case p.Probe != nil && p.State != control.PluginRefused:
			row = append(row, fmt.Sprint(p.Probe.Seen), fmt.Sprint(p.Probe.Emitted), fmt.Sprint(p.Probe.Lost), fmt.Sprint(p.Probe.Dropped),
				fmt.Sprint(p.Calls), cpu(p.CPUSec))
		default:
			row = append(row, "-", "-", "-", "-", "-", "-")
		}
		writeRow(w, append(row, dash(strings.Join(p.Features, ", ")), p.Path, p.Reason))
	}
}

func writeRow(w io.Writer, cells []string) {
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cpu is a plugin's CPU time as both tables show it.
func cpu(sec float64) string {
	return time.Duration(sec * 1e9).Round(time.Microsecond).String()
}
