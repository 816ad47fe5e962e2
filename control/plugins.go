package control

import (
	"context"
	"net/http"
)

// Plugin is one plugin file of a running daemon (`ainka-cli plugins`).
type Plugin struct {
	Name     string   `json:"name,omitempty"`
	Version  string   `json:"version,omitempty"`
	Kind     string   `json:"kind,omitempty"` // detector or tuner
	Path     string   `json:"path"`
	SHA256   string   `json:"sha256,omitempty"`
	State    string   `json:"state"`            // loaded, disabled or refused
	Reason   string   `json:"reason,omitempty"` // why disabled or refused
	Features []string `json:"features,omitempty"`
	Scores   []string `json:"scores,omitempty"`
	Calls    uint64   `json:"calls"`   // windows it was called for
	Outputs  uint64   `json:"outputs"` // scores or proposals it returned
	CPUSec   float64  `json:"cpu_seconds"`
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
