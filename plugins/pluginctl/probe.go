package pluginctl

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/ainka/ainka/plugins"
	"github.com/ainka/ainka/plugins/probe"
	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/stages/source"
)

// isProbe reports whether path is a probe plugin's directory.
func isProbe(path string) bool {
	_, err := os.Stat(filepath.Join(path, probe.ManifestFile))
	return err == nil
}

// checkProbe runs a probe plugin's checks as the daemon would before
// loading it: the manifest; the declarative form's fields against the
// tracepoint's format (tracefs, mounted if it is not); the object form's
// object against its manifest. Nothing is loaded into the kernel.
func checkProbe(path string) (*probe.Plugin, error) {
	p, err := probe.Open(path, spec.KindBase, "")
	if err != nil && os.Geteuid() == 0 && source.EnsureTracefs() == nil {
		p, err = probe.Open(path, spec.KindBase, "")
	}
	if err != nil {
		return nil, err
	}
	if p.Manifest.Object != nil {
		if _, err := p.CheckObject(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// probeStatuses checks the probe plugins of dirs, for `list`.
func probeStatuses(dirs []string) []plugins.Status {
	var out []plugins.Status
	for _, d := range probe.Dirs(dirs) {
		p, err := checkProbe(d)
		if err != nil {
			out = append(out, plugins.ProbeRefused(d, err))
			continue
		}
		out = append(out, plugins.ProbeStatus(p, plugins.Checked))
	}
	return out
}

func validateProbe(path string, w io.Writer) error {
	p, err := checkProbe(path)
	if err != nil {
		return err
	}
	m := p.Manifest
	form := "tracepoint "
	if m.Tracepoint != nil {
		form += m.Tracepoint.Name
	} else {
		form = "object " + m.Object.File
	}
	var feats []string
	for _, f := range p.Kind.Features {
		feats = append(feats, f.Name)
	}
	fmt.Fprintf(w, "ok: %s %s, a probe plugin (ABI %d) on %s: records of %d bytes, features %s\n",
		m.Name, m.Version, m.ABI, form, p.Kind.Size, strings.Join(feats, ", "))
	return nil
}

// probeInfo describes a probe plugin: its manifest, programs, record
// layout and features.
func probeInfo(path string, w io.Writer, asJSON bool) error {
	p, err := checkProbe(path)
	if err != nil {
		return err
	}
	st := plugins.ProbeStatus(p, plugins.Checked)
	if asJSON {
		return printJSON(w, st)
	}
	m := p.Manifest
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "name\t%s\nversion\t%s\nkind\tprobe (%s form)\nabi\t%d\nlicense\t%s\npath\t%s\n",
		m.Name, m.Version, st.Probe.Form, m.ABI, m.License, p.Dir)
	if m.Description != "" {
		fmt.Fprintf(tw, "description\t%s\n", m.Description)
	}
	fmt.Fprintf(tw, "programs\t%s\n", strings.Join(st.Probe.Programs, ", "))
	var fields []string
	for _, f := range p.Kind.Fields {
		fields = append(fields, fmt.Sprintf("%s@%d/%d", f.Name, f.Offset, f.Size))
	}
	fmt.Fprintf(tw, "record\t%d bytes: %s\n", p.Kind.Size, strings.Join(fields, ", "))
	for _, f := range p.Kind.Features {
		fmt.Fprintf(tw, "feature\t%s.%s\n", m.Name, describeFeature(p.Kind, f))
	}
	return tw.Flush()
}

// describeFeature is "NAME: OP of FIELD".
func describeFeature(k spec.Kind, f spec.Feature) string {
	s := f.Name + ": " + f.Op.String()
	if f.Field >= 0 {
		s += " of " + k.Fields[f.Field].Name
	}
	if f.Op == spec.OpQuantile {
		s += fmt.Sprintf(" (q %g)", f.Q)
	}
	if f.Scale != 0 && f.Scale != 1 {
		s += fmt.Sprintf(" × %g", f.Scale)
	}
	return s
}
