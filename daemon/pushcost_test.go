package daemon

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/internal/testenv"
	"github.com/ainka/ainka/stages/decode/decodetest"
)

// TestBenchPushCost measures, in one run, the CPU the push costs against
// the CPU the pipeline costs at 1 M events/s: the pipeline's CPU per
// event from a run of 400 000 records through the whole chain, and the
// push's CPU per snapshot (every metric of that chain written, stamped,
// gzipped and posted to a local store that reads it all) over 200
// snapshots. The push's share at the default interval (10 s) must stay
// under 1 % (docs/fleet.md has the figures).
func TestBenchPushCost(t *testing.T) {
	if os.Getenv(testenv.BenchCheckEnv) == "" {
		t.Skipf("set %s=1 (make bench-check) to run the benchmark guards", testenv.BenchCheckEnv)
	}
	testenv.LoadsCPU(t)
	recs := decodetest.Mixed(400_000, 2, 1e9, 10_000)
	c, err := Build(records(recs), ChainOptions{QueueLen: 8})
	if err != nil {
		t.Fatal(err)
	}
	cpu0 := cpuTime()
	if err := c.Pipeline.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	perEvent := float64(cpuTime()-cpu0) / float64(c.Decoder.Decoded())

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(204)
	}))
	defer srv.Close()
	cfg := config.Default()
	cfg.Telemetry.PushURL = srv.URL + "/api/v1/import/prometheus"
	p, err := newPusher(cfg, c.Pipeline.Metrics(), nil)
	if err != nil {
		t.Fatal(err)
	}
	const snapshots = 200
	cpu0 = cpuTime()
	for range snapshots {
		p.Snapshot(time.Now())
		p.Flush(context.Background())
	}
	perPush := float64(cpuTime()-cpu0) / snapshots
	var text countWriter
	WriteMetrics(&text, c.Pipeline.Metrics())
	share := perPush / cfg.Telemetry.PushInterval().Seconds() / (1e6 * perEvent)
	zipped := c.Pipeline.Metrics().GetOrCreateCounter("ainka_push_sent_bytes_total").Get() / snapshots
	t.Logf("pipeline %.0f ns CPU per event (%d events); push %.0f µs CPU per snapshot (%d bytes of text, %d gzipped); "+
		"at 1 M events/s the push costs %.4f %% of the pipeline's CPU at a 10 s interval, %.3f %% at 1 s",
		perEvent, c.Decoder.Decoded(), perPush/1e3, text.n, zipped, 100*share, 1000*share)
	if share > 0.01 {
		t.Errorf("the push costs %.3f %% of the pipeline's CPU at 1 M events/s, over 1 %%", 100*share)
	}
}

type countWriter struct{ n int }

func (w *countWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
