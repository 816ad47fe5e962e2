package daemon

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/plugins"
	"github.com/ainka/ainka/plugins/probe"
	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/stages/source"
	"github.com/ainka/ainka/trace"
)

// LoadProbes checks, loads and attaches the probe plugins of dirs
// (probe.Dirs), numbering their kinds from spec.KindBase. A plugin that
// fails a check or does not load is refused: logged with its reason,
// returned in refused (for `ainka-cli plugins`) and left out; the others
// and the daemon go on. The caller owns what is loaded
// (source.Config.Probes takes it over).
func LoadProbes(dirs []string, log *slog.Logger) (loaded []*probe.Loaded, refused []control.Plugin) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dirList := probe.Dirs(dirs)
	if len(dirList) > 0 {
		if err := source.EnsureTracefs(); err != nil {
			log.Warn("probe plugins: tracefs", "err", err)
		}
	}
	names := map[string]string{}
	for _, dir := range dirList {
		var l *probe.Loaded
		err := fmt.Errorf("%w: at most %d probe plugins run", errProbeTooMany, spec.MaxKinds)
		if len(loaded) < spec.MaxKinds {
			l, err = loadProbe(dir, spec.KindBase+uint16(len(loaded)), names)
		}
		if err != nil {
			log.Warn("probe plugin refused", "path", dir, "reason", err)
			refused = append(refused, plugins.ProbeRefused(dir, err))
			continue
		}
		log.Info("probe plugin loaded", "name", l.Name(), "kind", l.KindNumber(), "path", dir)
		loaded = append(loaded, l)
	}
	return loaded, refused
}

var (
	errProbeTwice   = errors.New("probe plugin name already loaded")
	errProbeTooMany = errors.New("too many probe plugins")
)

func loadProbe(dir string, k uint16, names map[string]string) (*probe.Loaded, error) {
	p, err := probe.Open(dir, k, "")
	if err != nil {
		return nil, err
	}
	if other, ok := names[p.Manifest.Name]; ok {
		return nil, fmt.Errorf("%w: %s is also %s", errProbeTwice, p.Manifest.Name, other)
	}
	l, err := p.Load(0)
	if err != nil {
		return nil, err
	}
	names[p.Manifest.Name] = dir
	return l, nil
}

// probeSet is the plugin kinds of a capture, for decode, aggregate and
// features; nil without any.
func probeSet(ps []trace.ProbeKind) (*spec.Set, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	kinds := make([]spec.Kind, len(ps))
	for i, p := range ps {
		if p.ABI != trace.ProbeABI {
			return nil, fmt.Errorf("probe plugin %s: trace header version %d, this ainka reads %d", p.Kind.Name, p.ABI, trace.ProbeABI)
		}
		kinds[i] = p.Kind
	}
	return spec.NewSet(kinds)
}

// traceProbes describes the live source's plugins for a trace header.
func traceProbes(l *source.Live) []trace.ProbeKind {
	var out []trace.ProbeKind
	for _, p := range l.ProbePlugins() {
		out = append(out, trace.ProbeKind{ABI: trace.ProbeABI, Kind: p.Kind, Version: p.Manifest.Version, Manifest: string(p.Text)})
	}
	return out
}

// closeProbes frees plugins that no source took over.
func closeProbes(ps []*probe.Loaded) {
	for _, p := range ps {
		p.Close()
	}
}

// probeStatus lists the live source's probe plugins with their records
// counted as the built-in kinds' are, then the refused ones (`ainka-cli
// plugins`).
func probeStatus(live *source.Live, refused []control.Plugin) []control.Plugin {
	var out []control.Plugin
	if live != nil {
		for _, s := range live.ProbeStats() {
			st := plugins.ProbeStatus(s.Plugin, plugins.Loaded)
			st.Probe.Seen, st.Probe.Emitted, st.Probe.Lost = s.Seen, s.Emitted, s.Lost
			st.Probe.Read, st.Probe.Dropped = s.Read, s.Dropped
			// The kernel's run time of the kind's programs: the CPU
			// time a logic plugin's calls are accounted as.
			st.CPUSec, st.Calls = s.Runtime.Seconds(), s.Runs
			out = append(out, st)
		}
	}
	return append(out, refused...)
}

// decoded is the number of records of kind (built-in or probe plugin)
// the decoder decoded.
func (c *Chain) decoded(kind uint16) uint64 {
	if kind >= spec.KindBase {
		return c.Decoder.ProbeCounts[kind-spec.KindBase]
	}
	return c.Decoder.Counts[kind]
}
