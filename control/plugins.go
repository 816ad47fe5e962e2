package control

import (
	"context"
	"net/http"
)

// Plugin states and the kind of a probe plugin.
const (
	PluginLoaded   = "loaded"
	PluginDisabled = "disabled"
	PluginRefused  = "refused"
	PluginProbe    = "probe"
)

// Plugin is one plugin file of a running daemon (`ainka-cli plugins`).
type Plugin struct {
	Name     string   `json:"name,omitempty"`
	Version  string   `json:"version,omitempty"`
	Kind     string   `json:"kind,omitempty"` // detector, tuner or probe
	Path     string   `json:"path"`
	SHA256   string   `json:"sha256,omitempty"`
	State    string   `json:"state"`            // loaded, disabled or refused
	Reason   string   `json:"reason,omitempty"` // why disabled or refused
	Features []string `json:"features,omitempty"`
	Scores   []string `json:"scores,omitempty"`
	// Calls: the windows a logic plugin was called for; the runs of a
	// probe plugin's programs (counted by the kernel while BPF run-time
	// statistics are on, as the daemon keeps them while one runs).
	Calls   uint64 `json:"calls"`
	Outputs uint64 `json:"outputs"` // scores or proposals it returned
	// CPUSec: a logic plugin's thread CPU time in its calls; a probe
	// plugin's programs' run time in the kernel.
	CPUSec float64 `json:"cpu_seconds"`
	// Probe is set for a probe plugin (Kind "probe"), whose Features are
	// PLUGIN.FEATURE names.
	Probe *ProbePlugin `json:"probe,omitempty"`
}

// ProbePlugin is what a probe plugin adds to Plugin: its form, programs,
// record kind and, in a running daemon, the records of its kind counted
// as the built-in kinds' are.
type ProbePlugin struct {
	Form       string   `json:"form"`     // tracepoint (declarative) or object
	Programs   []string `json:"programs"` // "tracepoint signal:signal_generate", "proclife_exit tp_btf sched_process_exit"
	RecordKind uint16   `json:"record_kind,omitempty"`
	RecordSize int      `json:"record_size"`
	Seen       uint64   `json:"seen"`    // events the program saw
	Emitted    uint64   `json:"emitted"` // records it wrote (into the ring or lost)
	Lost       uint64   `json:"lost"`    // records the ring had no room for
	Read       uint64   `json:"read"`    // records the source read
	Dropped    uint64   `json:"dropped"` // records read but dropped before decode
}

// PluginLister is implemented by a Daemon that loads plugins: `ainka-cli
// plugins`. It is separate from Daemon so that a daemon without plugins
// still serves everything else.
type PluginLister interface {
	Plugins(ctx context.Context) ([]Plugin, error)
}

func (s *Server) plugins(w http.ResponseWriter, r *http.Request) {
	pl, ok := s.d.(PluginLister)
	if !ok {
		writeError(w, http.StatusNotFound, "this daemon loads no plugins")
		return
	}
	ctx, cancel := s.call(r)
	defer cancel()
	ps, err := pl.Plugins(ctx)
	if err != nil {
		s.fail(w, err)
		return
	}
	if ps == nil {
		ps = []Plugin{}
	}
	writeJSON(w, ps)
}

// Plugins lists the daemon's plugins: loaded, disabled and why, refused
// and why, with their counts and CPU time.
func (c *Client) Plugins(ctx context.Context) ([]Plugin, error) {
	var ps []Plugin
	err := c.do(ctx, http.MethodGet, "/v1/plugins", nil, &ps)
	return ps, err
}
