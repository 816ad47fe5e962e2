package daemon

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/bpf"
	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/internal/testenv"
	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/settings"
	"github.com/ainka/ainka/stages/source"
)

// reloadRig is a live daemon chain over plugin directory root: the source
// reads the probe plugins, the stages follow its kinds, the controller
// reloads them as SIGHUP does.
type reloadRig struct {
	t    *testing.T
	root string
	c    *Chain
	ctl  *Controller
}

func newReloadRig(t *testing.T) *reloadRig {
	if err := bpf.Preflight(); err != nil {
		testenv.SkipUnlessVM(t, "real-kernel test skipped: %v", err)
	}
	r := &reloadRig{t: t, root: t.TempDir()}
	r.write("signals", "1.0.0", "")
	cfg := config.Default()
	cfg.Policy.PolicyFile, cfg.ML.ModelPath, cfg.Daemon.SocketPath = "", "", ""
	cfg.Plugins.PluginDirs = []string{r.root}
	loaded, refused := LoadProbes(cfg.Plugins.PluginDirs, nil)
	if len(loaded) != 1 || len(refused) != 0 {
		t.Fatalf("loaded %d, refused %+v", len(loaded), refused)
	}
	live, err := OpenLive(source.Config{Policy: source.Policy{Kinds: []record.Kind{record.KindHostSample}}, RingBytes: 1 << 20, Probes: loaded})
	if err != nil {
		closeProbes(loaded)
		t.Fatal(err)
	}
	r.c, err = Build(live, ChainOptions{Settings: settings.Live(100 * time.Millisecond), Config: cfg, Live: true, QueueLen: 8, Probes: traceProbes(live)})
	if err != nil {
		live.Close()
		t.Fatal(err)
	}
	r.ctl = NewController(r.c, "live", true, live, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.c.Pipeline.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("pipeline: %v", err)
		}
		r.ctl.probes.close()
		r.c.Actuate.Close()
	})
	return r
}

// write makes plugin directory name: the declarative example renamed,
// at version, with extra appended to its manifest.
func (r *reloadRig) write(name, version, extra string) {
	text, err := os.ReadFile(signalsPlugin + "/plugin.toml")
	if err != nil {
		r.t.Fatal(err)
	}
	s := strings.Replace(string(text), `name = "signals"`, `name = "`+name+`"`, 1)
	s = strings.Replace(s, `version = "1.0.0"`, `version = "`+version+`"`, 1) + extra
	dir := filepath.Join(r.root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plugin.toml"), []byte(s), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *reloadRig) status() []control.Plugin {
	ps, err := r.ctl.Plugins(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return slices.DeleteFunc(ps, func(p control.Plugin) bool { return p.Kind != control.PluginProbe })
}

// loaded returns the loaded plugin named name, failing without it.
func (r *reloadRig) loaded(name string) control.Plugin {
	r.t.Helper()
	for _, p := range r.status() {
		if p.Name == name && p.State == control.PluginLoaded {
			return p
		}
	}
	r.t.Fatalf("no loaded probe plugin %s: %+v", name, r.status())
	return control.Plugin{}
}

// decoded is the records of plugin name decode counted (its metric: the
// stage's own counters are the stage goroutine's).
func (r *reloadRig) decoded(name string) uint64 {
	return r.c.Pipeline.Metrics().GetOrCreateCounter(fmt.Sprintf(`ainka_events_total{kind=%q}`, name)).Get()
}

// flow sends signals until plugin name's decoded records grow by at least
// n (or 10 s pass).
func (r *reloadRig) flow(name string, n uint64) {
	r.t.Helper()
	before := r.decoded(name)
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		sendSignals(r.t, 50)
		time.Sleep(150 * time.Millisecond) // the reader's deadline, the pipeline
		if r.decoded(name)-before >= n {
			return
		}
	}
	r.t.Fatalf("%s: %d records decoded, want >= %d", name, r.decoded(name)-before, n)
}

// TestLiveProbeReload (root, real kernel): SIGHUP's reload of the probe
// plugins, step by step on one running chain. A new version of the same
// layout is swapped live (same kind, counters go on, events keep flowing);
// a broken one is refused with its reason and the running one kept; a
// changed layout becomes a new kind; a new plugin is added and a removed
// one detached, the stages following the kinds. The programs' kernel run
// time grows while events flow.
func TestLiveProbeReload(t *testing.T) {
	r := newReloadRig(t)
	r.flow("signals", 50)
	first := r.loaded("signals")
	if first.Probe.RecordKind != spec.KindBase || first.Probe.Emitted < 50 {
		t.Fatalf("at start: %+v %+v", first, first.Probe)
	}
	// Run time: the kernel's accounting of the programs, on from when
	// the controller saw a probe plugin loaded (after its first events).
	if first.CPUSec <= 0 || first.Calls == 0 {
		t.Errorf("CPU %v s over %d runs: want the programs' run time", first.CPUSec, first.Calls)
	}

	r.write("signals", "1.0.1", "")
	r.ctl.reloadPlugins(r.c.log)
	swapped := r.loaded("signals")
	if swapped.Version != "1.0.1" || swapped.Probe.RecordKind != spec.KindBase || swapped.Probe.Emitted < first.Probe.Emitted ||
		swapped.CPUSec < first.CPUSec {
		t.Fatalf("swap: %+v %+v, before %+v", swapped, swapped.Probe, first.Probe)
	}
	r.flow("signals", 50)
	after := r.loaded("signals")
	// A run per event the program saw (the swapped-in one ran with the
	// statistics on from its first event), but for the runs going on on
	// other CPUs while the counters were read (seen is counted inside a
	// run, the run when it ends).
	if after.Probe.Emitted < swapped.Probe.Emitted+50 || after.CPUSec <= swapped.CPUSec ||
		after.Calls-swapped.Calls+uint64(runtime.NumCPU()) < after.Probe.Seen-swapped.Probe.Seen {
		t.Errorf("after the swap: %+v CPU %v runs %d, at the swap %+v CPU %v runs %d", after.Probe, after.CPUSec, after.Calls,
			swapped.Probe, swapped.CPUSec, swapped.Calls)
	}

	var m bytes.Buffer
	r.c.Pipeline.Metrics().WritePrometheus(&m)
	for _, want := range []string{`ainka_plugin_cpu_seconds_total{plugin="signals",kind="probe"} `, `ainka_plugin_calls_total{plugin="signals",kind="probe"} `} {
		if !strings.Contains(m.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(m.String(), `ainka_plugin_outputs_total{plugin="signals"`) {
		t.Error("/metrics: outputs of a probe plugin")
	}

	r.write("signals", "1.0.2", "[[feature]]\nname = \"bad\"\ntype = \"mean\"\nfield = \"no_such_field\"\n")
	r.ctl.reloadPlugins(r.c.log)
	st := r.status()
	if len(st) != 2 || st[0].Version != "1.0.1" || st[0].State != control.PluginLoaded || st[1].State != control.PluginRefused ||
		!strings.Contains(st[1].Reason, `field "no_such_field" is not a record field`) || !strings.Contains(st[1].Reason, "version 1.0.1 keeps running") {
		t.Fatalf("broken: %+v", st)
	}
	r.flow("signals", 50)

	r.write("signals", "2.0.0", "[[feature]]\nname = \"mean_pid\"\ntype = \"mean\"\nfield = \"pid\"\n")
	r.write("signals_b", "1.0.0", "")
	r.ctl.reloadPlugins(r.c.log)
	changed, added := r.loaded("signals"), r.loaded("signals_b")
	if changed.Probe.RecordKind != spec.KindBase+1 || added.Probe.RecordKind != spec.KindBase+2 || len(r.status()) != 2 {
		t.Fatalf("layout change and addition: %+v", r.status())
	}
	// A new kind number, the same plugin: its counters go on.
	if changed.Version != "2.0.0" || changed.Probe.Emitted < after.Probe.Emitted || changed.Probe.Read < after.Probe.Read {
		t.Errorf("layout change: %+v, before %+v", changed.Probe, after.Probe)
	}
	names := r.c.ProbeKinds.Load().FeatureNames()
	if !slices.Contains(names, "signals.mean_pid") || !slices.Contains(names, "signals_b.signals_per_s") {
		t.Errorf("features %v", names)
	}
	r.flow("signals", 50)
	r.flow("signals_b", 50)

	if err := os.RemoveAll(filepath.Join(r.root, "signals_b")); err != nil {
		t.Fatal(err)
	}
	r.ctl.reloadPlugins(r.c.log)
	if st := r.status(); len(st) != 1 || st[0].Name != "signals" {
		t.Fatalf("removal: %+v", st)
	}
	set := r.c.ProbeKinds.Load()
	if len(set.Kinds()) != 1 || set.Retired(spec.KindBase+2) == nil || set.Retired(spec.KindBase) == nil {
		t.Errorf("kinds after removal: %v", set.FeatureNames())
	}
	r.flow("signals", 50) // the removed kind's last records, drained, go through
	before := r.decoded("signals_b")
	r.flow("signals", 50)
	if got := r.decoded("signals_b"); got != before {
		t.Errorf("removed kind still decoded: %d -> %d", before, got)
	}
}
