package plugins

import (
	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/plugins/wasm"
)

// Status is one plugin file's state, for `ainka-cli plugins` (the control
// API's type) and `ainka plugin list`.
type Status = control.Plugin

// States of a plugin.
const (
	Loaded   = control.PluginLoaded
	Disabled = control.PluginDisabled
	Refused  = control.PluginRefused
)

// Status lists the loaded plugins by name, then the refused files.
func (s *Set) Status() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, 0, len(s.mods)+len(s.refused))
	for _, e := range s.mods {
		out = append(out, ModuleStatus(e.mod))
	}
	for _, r := range s.refused {
		out = append(out, Status{Path: r.Path, State: Refused, Reason: r.Err.Error()})
	}
	return out
}

// ModuleStatus is a loaded module's Status.
func ModuleStatus(m *wasm.Module) Status {
	st := m.Stats()
	out := Status{Name: m.Info.Name, Version: m.Info.Version, Kind: string(m.Info.Kind), Path: m.Path, SHA256: m.SHA256,
		State: Loaded, Features: m.Info.Features, Scores: m.Info.Scores,
		Calls: st.Calls, Outputs: st.Outputs, CPUSec: st.CPU.Seconds()}
	if st.Disabled != nil {
		out.State, out.Reason = Disabled, st.Disabled.Error()
	}
	return out
}

// Counts are the set's totals: plugins loaded (enabled), disabled at run
// time since the start, and files refused at the last (re)load.
func (s *Set) Counts() (loaded, disabled, refused int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.mods {
		if !e.off {
			loaded++
		}
	}
	return loaded, int(s.disabled), len(s.refused)
}
