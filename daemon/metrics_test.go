package daemon

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metrics"
)

// TestMetricsEndpoint: /metrics serves the pipeline's set and the Go and
// process metrics.
func TestMetricsEndpoint(t *testing.T) {
	set := metrics.NewSet()
	set.GetOrCreateCounter(`ainka_stage_in_total{stage="decode"}`).Add(3)
	ms, err := ListenMetrics("127.0.0.1:0", set)
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	resp, err := http.Get("http://" + ms.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`ainka_stage_in_total{stage="decode"} 3`, "go_memstats_alloc_bytes", "process_resident_memory_bytes"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
