package daemon

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/fleet/push"
)

// pushLabels expands ${VAR} in the label values from the environment (a
// DaemonSet gives each pod its node's name as NODE_NAME); a label that
// expands to nothing is left out, as Prometheus treats an empty one.
func pushLabels(in map[string]string) map[string]string {
	out := make(map[string]string, len(in)+1)
	for k, v := range in {
		if v = os.ExpandEnv(v); v != "" {
			out[k] = v
		}
	}
	return out
}

// newPusher sets up the push of set to [telemetry] push_url (nil when it
// is not set): the host label defaults to the host name, and the Go and
// process metrics go too (a fleet compares the daemons' own cost).
func newPusher(cfg *config.Config, set *metrics.Set, log *slog.Logger) (*push.Pusher, error) {
	t := cfg.Telemetry
	if t.PushURL == "" {
		return nil, nil
	}
	labels := pushLabels(t.PushLabels)
	if labels["host"] == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("push: host label: %w", err)
		}
		labels["host"] = h
	}
	p, err := push.New(push.Config{URL: t.PushURL, Interval: t.PushInterval(), Labels: labels,
		BufferBytes: t.PushBufferKB << 10, Metrics: set, Log: log,
		Write: func(w io.Writer) {
			set.WritePrometheus(w)
			metrics.WriteProcessMetrics(w)
		}})
	if err != nil {
		return nil, UsageError{fmt.Errorf("[telemetry] push: %w", err)}
	}
	return p, nil
}
