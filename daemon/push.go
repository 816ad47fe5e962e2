package daemon

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/fleet/push"
)

// newPusher sets up the push of set to [telemetry] push_url (nil when it
// is not set): the host label defaults to the host name, and the Go and
// process metrics go too (a fleet compares the daemons' own cost).
func newPusher(cfg *config.Config, set *metrics.Set, log *slog.Logger) (*push.Pusher, error) {
	t := cfg.Telemetry
	if t.PushURL == "" {
		return nil, nil
	}
	labels := maps.Clone(t.PushLabels)
	if labels == nil {
		labels = map[string]string{}
	}
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
