package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"

	"github.com/ainka/ainka/plugins/probe"
	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/stages/source"
	"github.com/ainka/ainka/trace"
)

// ProbeDirs returns the probe plugins of dirs: a directory holding a
// plugin.toml is one, otherwise each of its subdirectories holding one
// is, by name. A missing directory holds none.
func ProbeDirs(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, probe.ManifestFile)); err == nil {
			out = append(out, d)
			continue
		}
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		var names []string
		for _, e := range ents {
			if _, err := os.Stat(filepath.Join(d, e.Name(), probe.ManifestFile)); err == nil {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		for _, n := range names {
			out = append(out, filepath.Join(d, n))
		}
	}
	return out
}

// LoadProbes checks, loads and attaches the probe plugins of dirs
// (ProbeDirs), numbering their kinds from spec.KindBase. A plugin that
// fails a check or does not load is refused: logged with its reason and
// left out; the others and the daemon go on. The caller owns what is
// returned (source.Config.Probes takes it over).
func LoadProbes(dirs []string, log *slog.Logger) []*probe.Loaded {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	plugins := ProbeDirs(dirs)
	if len(plugins) > 0 {
		if err := source.EnsureTracefs(); err != nil {
			log.Warn("probe plugins: tracefs", "err", err)
		}
	}
	var out []*probe.Loaded
	names := map[string]string{}
	for _, dir := range plugins {
		if len(out) == spec.MaxKinds {
			log.Warn("probe plugin refused", "path", dir, "reason", fmt.Sprintf("at most %d probe plugins run", spec.MaxKinds))
			continue
		}
		l, err := loadProbe(dir, spec.KindBase+uint16(len(out)), names)
		if err != nil {
			log.Warn("probe plugin refused", "path", dir, "reason", err)
			continue
		}
		log.Info("probe plugin loaded", "name", l.Name(), "kind", l.KindNumber(), "path", dir)
		out = append(out, l)
	}
	return out
}

var errProbeTwice = errors.New("probe plugin name already loaded")

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
