package daemon

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metrics"
)

// The Grafana dashboards query only metrics the daemon exposes.
func TestGrafanaDashboardUsesRealMetrics(t *testing.T) {
	for _, f := range []string{"ainka.json", "fleet.json"} {
		t.Run(f, func(t *testing.T) { checkDashboard(t, "../deploy/grafana/"+f) })
	}
}

func checkDashboard(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	name := regexp.MustCompile(`ainka_[a-z_]+`)
	used := 0
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, m := range name.FindAllString(tg.Expr, -1) {
				m = strings.TrimSuffix(m, "_bucket")
				if _, ok := metricHelp[m]; !ok {
					t.Errorf("panel %q queries %s, which the daemon does not expose", p.Title, m)
				}
				used++
			}
		}
	}
	if used < 10 {
		t.Errorf("%s queries %d AINKA metrics", path, used)
	}
}

// WriteMetrics gives every family help text and a type, and leaves the
// samples alone.
func TestWriteMetricsHelp(t *testing.T) {
	set := metrics.NewSet()
	set.GetOrCreateCounter(`ainka_events_total{kind="syscall"}`).Add(7)
	set.GetOrCreateGauge("ainka_unknown_thing", func() float64 { return 1 })
	var b bytes.Buffer
	if err := WriteMetrics(&b, set); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"# HELP ainka_events_total Records decoded, by event kind.\n# TYPE ainka_events_total counter\n" +
			`ainka_events_total{kind="syscall"} 7` + "\n",
		"# HELP ainka_unknown_thing AINKA metric ainka_unknown_thing.\n",
		"# HELP go_goroutines Go runtime metric go_goroutines",
		"# TYPE process_resident_memory_bytes gauge",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "#" && f[1] == "HELP" {
			t.Errorf("help without text: %q", line)
		}
	}
}
