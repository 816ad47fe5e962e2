package control

import (
	"context"
	"net/http"

	"github.com/ainka/ainka/view"
)

// Snapshotter is implemented by a Daemon that keeps a view of itself (what
// it sees, thinks and changes): `ainka-cli top` shows it. It is separate
// from Daemon so that a daemon without one still serves everything else.
type Snapshotter interface {
	Snapshot(ctx context.Context) (view.Snapshot, error)
}

func (s *Server) snapshot(w http.ResponseWriter, r *http.Request) {
	sn, ok := s.d.(Snapshotter)
	if !ok {
		writeError(w, http.StatusNotFound, "this daemon keeps no view snapshot")
		return
	}
	ctx, cancel := s.call(r)
	defer cancel()
	v, err := sn.Snapshot(ctx)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, v)
}

// Snapshot returns the daemon's view: rates, scores, forecasts, state,
// decisions and changed knobs.
func (c *Client) Snapshot(ctx context.Context) (view.Snapshot, error) {
	var v view.Snapshot
	err := c.do(ctx, http.MethodGet, "/v1/snapshot", nil, &v)
	return v, err
}
