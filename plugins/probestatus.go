package plugins

import (
	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/plugins/probe"
)

// ProbeKind is the Kind of a probe plugin's Status.
const ProbeKind = control.PluginProbe

// Checked is the state `ainka plugin list` gives a probe plugin that
// passed every check short of loading it into the kernel (which only the
// daemon does, as root).
const Checked = "checked"

// ProbeStatus describes probe plugin p in state (Loaded in a daemon,
// Checked by `ainka plugin list`); the record counts are the caller's.
func ProbeStatus(p *probe.Plugin, state string) Status {
	m := p.Manifest
	pp := &control.ProbePlugin{RecordSize: p.Kind.Size}
	if state == Loaded {
		pp.RecordKind = p.Kind.Kind
	}
	if m.Tracepoint != nil {
		pp.Form = "tracepoint"
		pp.Programs = []string{"tracepoint " + m.Tracepoint.Name}
	} else {
		pp.Form = "object"
		for _, pr := range m.Object.Programs {
			pp.Programs = append(pp.Programs, pr.Name+" "+pr.Attach+" "+pr.Target)
		}
	}
	feats := make([]string, 0, len(p.Kind.Features))
	for _, f := range p.Kind.Features {
		feats = append(feats, m.Name+"."+f.Name)
	}
	return Status{Name: m.Name, Version: m.Version, Kind: ProbeKind, Path: p.Dir, State: state, Features: feats, Probe: pp}
}

// ProbeRefused is the Status of a probe plugin directory that was refused.
func ProbeRefused(dir string, err error) Status {
	return Status{Kind: ProbeKind, Path: dir, State: Refused, Reason: err.Error()}
}
