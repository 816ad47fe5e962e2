package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ainka/ainka/fleet/query"
)

// ErrFleetURL: [ui] fleet_url is not a store's URL.
var ErrFleetURL = errors.New("bad fleet_url")

// fleetTTL is how long one answer of the store is served: every viewer's
// page asks each few seconds, the store is asked at most this often.
const fleetTTL = 10 * time.Second

// fleetTimeout bounds one fetch from the store, whoever asked for it.
const fleetTimeout = 15 * time.Second

// fleetAnswer is /api/fleet: the hosts that pushed to the store, or why
// they could not be read.
type fleetAnswer struct {
	Store string       `json:"store"`
	At    time.Time    `json:"at"`
	Hosts []query.Host `json:"hosts"`
	Error string       `json:"error,omitempty"`
}

// fleet reads the fleet's hosts from the store for the dashboard's fleet
// page: the daemon fetches them, the browser only ever talks to the
// daemon (its Content-Security-Policy allows nothing else).
type fleet struct {
	url    string // redacted
	secret string // the URL's password, kept out of what viewers read
	status func(context.Context) ([]query.Host, error)

	mu  sync.Mutex // held across a fetch: concurrent viewers wait for one answer
	at  time.Time
	ans fleetAnswer
}

func newFleet(raw string) (*fleet, error) {
	if raw == "" {
		return nil, nil
	}
	c, err := query.NewClient(raw, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFleetURL, err)
	}
	f := &fleet{url: raw, status: c.Status}
	if u, err := url.Parse(raw); err == nil { // a password in the URL is not the viewers' to read
		f.url = u.Redacted()
		f.secret, _ = u.User.Password()
	}
	return f, nil
}

// get returns the store's hosts, fetched at most once per fleetTTL.
func (f *fleet) get(now time.Time) fleetAnswer {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.at.IsZero() && now.Sub(f.at) < fleetTTL {
		return f.ans
	}
	// Not the request's context: a viewer that leaves mid-fetch would
	// fail it for the others waiting on it.
	ctx, cancel := context.WithTimeout(context.Background(), fleetTimeout)
	defer cancel()
	hosts, err := f.status(ctx)
	f.at, f.ans = now, fleetAnswer{Store: f.url, At: now.UTC(), Hosts: hosts}
	if err != nil {
		f.ans.Error = err.Error()
		if f.secret != "" {
			f.ans.Error = strings.ReplaceAll(f.ans.Error, f.secret, "xxxxx")
		}
	}
	if f.ans.Hosts == nil {
		f.ans.Hosts = []query.Host{}
	}
	return f.ans
}

// serveFleet answers /api/fleet: 204 when no fleet_url is set (the page
// stays hidden; not a 404, which a browser logs as an error on every
// dashboard without a fleet), 502 with the reason when the store cannot
// be read.
func (s *Server) serveFleet(w http.ResponseWriter, _ *http.Request) {
	if s.fleet == nil {
		w.Header().Set("X-Ainka-Fleet", "off: set fleet_url in [ui] to the fleet's VictoriaMetrics or Prometheus URL")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	a := s.fleet.get(time.Now())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if a.Error != "" {
		w.WriteHeader(http.StatusBadGateway)
	}
	json.NewEncoder(w).Encode(a)
}
