package daemon

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// MetricsServer serves /metrics: the pipeline's set plus Go and process
// metrics, in Prometheus text format.
type MetricsServer struct {
	ln  net.Listener
	srv *http.Server
}

// ListenMetrics checks addr and binds it before anything starts, so a bad
// --metrics-addr is one clear error rather than a failure halfway.
func ListenMetrics(addr string, set *metrics.Set) (*MetricsServer, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || strings.ContainsAny(host, "/ ") {
		if err == nil {
			err = errors.New("want HOST:PORT")
		}
		return nil, Usagef("bad --metrics-addr %q: %v", addr, errors.Unwrap(err))
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr %q: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		WriteMetrics(w, set) // with the Go runtime and process metrics
	})
	s := &MetricsServer{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go s.srv.Serve(ln)
	return s, nil
}

// Addr is the bound address (useful with port 0).
func (s *MetricsServer) Addr() string { return s.ln.Addr().String() }

func (s *MetricsServer) Close() error {
	if s == nil {
		return nil
	}
	return s.srv.Close()
}
