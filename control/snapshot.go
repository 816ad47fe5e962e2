package control

import (
	"context"
	"net/http"
	"net/url"

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

// Explainer is implemented by a Daemon that remembers the changes it made
// to each knob: `ainka-cli explain KNOB`. Explain wraps ErrNotFound when
// it never changed the knob.
type Explainer interface {
	Explain(ctx context.Context, knob string) (view.Explanation, error)
}

func (s *Server) explain(w http.ResponseWriter, r *http.Request) {
	ex, ok := s.d.(Explainer)
	if !ok {
		writeError(w, http.StatusNotFound, "this daemon keeps no history of its changes")
		return
	}
	knob := r.URL.Query().Get("knob")
	if knob == "" {
		writeError(w, http.StatusBadRequest, "explain: the knob query parameter is empty")
		return
	}
	ctx, cancel := s.call(r)
	defer cancel()
	e, err := ex.Explain(ctx, knob)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, e)
}

// Explain returns every change the daemon made to knob and the change it
// holds; ErrNotFound when it never changed it.
func (c *Client) Explain(ctx context.Context, knob string) (view.Explanation, error) {
	var e view.Explanation
	err := c.do(ctx, http.MethodGet, "/v1/explain?knob="+url.QueryEscape(knob), nil, &e)
	return e, err
}
