package control

import (
	"context"
	"net/http"

	"github.com/ainka/ainka/stages/tune"
)

// Tuner is implemented by a Daemon that runs the tuners (the tune stage):
// `ainka-cli tuners` shows their state, targets, classes, trials, the
// settings kept per regime and the gains measured.
type Tuner interface {
	Tuners(ctx context.Context) (tune.Status, error)
}

func (s *Server) tuners(w http.ResponseWriter, r *http.Request) {
	tn, ok := s.d.(Tuner)
	if !ok {
		writeError(w, http.StatusNotFound, "this daemon runs no tuners")
		return
	}
	ctx, cancel := s.call(r)
	defer cancel()
	st, err := tn.Tuners(ctx)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, st)
}

// Tuners returns the tuners' state.
func (c *Client) Tuners(ctx context.Context) (tune.Status, error) {
	var st tune.Status
	err := c.do(ctx, http.MethodGet, "/v1/tuners", nil, &st)
	return st, err
}
