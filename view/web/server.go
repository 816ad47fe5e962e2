package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ainka/ainka/view"
)

//go:embed static
var static embed.FS

// Sentinel errors of Listen.
var (
	// ErrRemote: the address is not a loopback one and remote viewers
	// were not allowed.
	ErrRemote = errors.New("not a loopback address")
	// ErrAddr: the address is not host:port.
	ErrAddr = errors.New("not host:port")
)

// Options configure the dashboard.
type Options struct {
	// Addr is host:port to listen on (port 0: any free port).
	Addr string
	// AllowRemote allows a non-loopback Addr (the dashboard has no
	// authentication).
	AllowRemote bool
	// Snapshot and Timeline read the view recorder; both must be safe to
	// call from another goroutine.
	Snapshot func() view.Snapshot
	Timeline func(after uint64) []view.Event
	// FleetURL is the fleet's store (VictoriaMetrics, Prometheus): when
	// set, the dashboard has a fleet page listing the hosts that push
	// there ([ui] fleet_url).
	FleetURL string
	// Interval between updates (default 1s).
	Interval time.Duration
	// Metrics receives ainka_ui_* (nil: a private set).
	Metrics *metrics.Set
	Logger  *slog.Logger
}

// Server is a bound dashboard.
type Server struct {
	o     Options
	ln    net.Listener
	hub   *hub
	srv   *http.Server
	fleet *fleet // nil: no fleet page
}

// Listen checks o.Addr and binds it, so a bad or busy address is one
// error at start, before the daemon runs.
func Listen(o Options) (*Server, error) {
	if err := CheckAddr(o.Addr, o.AllowRemote); err != nil {
		return nil, err
	}
	fl, err := newFleet(o.FleetURL)
	if err != nil {
		return nil, err
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewSet()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("ui_addr %q: %w", o.Addr, err)
	}
	s := &Server{o: o, ln: ln, hub: newHub(o.Metrics), fleet: fl}
	s.srv = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 5 * time.Second}
	return s, nil
}

// CheckAddr refuses an address that is not host:port, and one whose host
// is not loopback (an IP in 127.0.0.0/8 or ::1, or "localhost") unless
// allowRemote: an empty host listens on every interface.
func CheckAddr(addr string, allowRemote bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return fmt.Errorf("ui_addr %q: %w: %s", addr, ErrAddr, ae.Err)
		}
		return fmt.Errorf("ui_addr %q: %w", addr, ErrAddr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("ui_addr %q: %w: port %q is not a number in 0..65535", addr, ErrAddr, port)
	}
	if allowRemote {
		return nil
	}
	ip := net.ParseIP(host)
	if host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("ui_addr %q: %w: the dashboard has no authentication, so it listens on 127.0.0.1 or ::1 only; set ui_allow_remote = true in [ui] to serve it to other hosts", addr, ErrRemote)
}

// Addr is the bound address (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves the dashboard and publishes updates until ctx ends, then
// closes the listener and every viewer's stream.
func (s *Server) Serve(ctx context.Context) error {
	go s.publish(ctx)
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case <-ctx.Done():
		s.hub.close()
		s.srv.Close()
		<-errc
		return nil
	case err := <-errc:
		s.hub.close()
		return fmt.Errorf("dashboard: %w", err)
	}
}

// Close releases the listener when Serve is never called.
func (s *Server) Close() error { return s.srv.Close() }

func (s *Server) routes() http.Handler {
	files, _ := fs.Sub(static, "static")
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(files))
	mux.HandleFunc("GET /api/snapshot", s.snapshot)
	mux.HandleFunc("GET /api/timeline", s.timeline)
	mux.HandleFunc("GET /api/events", s.events)
	mux.HandleFunc("GET /api/fleet", s.serveFleet)
	return readOnly(mux)
}

// readOnly answers every method but GET and HEAD with 405: the dashboard
// never changes anything.
func readOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the dashboard is read-only: use ainka-cli", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		h.ServeHTTP(w, r)
	})
}

func (s *Server) snapshot(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, s.o.Snapshot())
}

// timeline serves the events after ?after=SEQ, for a viewer that lost an
// update and with it some events.
func (s *Server) timeline(w http.ResponseWriter, r *http.Request) {
	after, err := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	if err != nil && r.URL.Query().Get("after") != "" {
		http.Error(w, fmt.Sprintf("after=%q: want an event number", r.URL.Query().Get("after")), http.StatusBadRequest)
		return
	}
	writeJSON(w, s.o.Timeline(after))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}
