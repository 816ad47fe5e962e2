package daemon

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/control/controltest"
	"github.com/ainka/ainka/plugins/wasm/wasmtest"
	"github.com/ainka/ainka/stages/decode/decodetest"
)

// pluginConfig is a configuration whose files all lie in a temporary
// directory, with the named plugins built into its plugin directory.
func pluginConfig(t *testing.T, names ...string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Daemon.WorkDir = filepath.Join(dir, "work")
	cfg.ML.ModelPath = ""
	cfg.Tuners.ModelPath = ""
	cfg.Policy.PolicyFile = filepath.Join(dir, "policies.toml")
	cfg.Plugins.PluginDirs = []string{filepath.Join(dir, "plugins")}
	if _, err := wasmtest.Build(cfg.Plugins.PluginDirs[0], names...); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func tapLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// TestPluginDetectorInPredictTap: the example detector's scores are in
// every window of --tap predict, beside the built-in ones, and two runs on
// the same records write the same bytes (the sandbox gives a plugin no
// clock or randomness of its own).
func TestPluginDetectorInPredictTap(t *testing.T) {
	cfg := pluginConfig(t, "pressure")
	recs := decodetest.Mixed(20000, 2, 1e9, 100_000)
	var taps [2][]byte
	for i := range taps {
		tap := filepath.Join(t.TempDir(), "predict.jsonl")
		c, tp, err := Assemble(records(recs), ChainOptions{Config: cfg}, []TapSpec{{Stage: "predict", Path: tap}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.finish(c.Pipeline.Run(context.Background()), discardLog(), tp); err != nil {
			t.Fatal(err)
		}
		if taps[i], err = os.ReadFile(tap); err != nil {
			t.Fatal(err)
		}
	}
	if string(taps[0]) != string(taps[1]) {
		t.Fatal("two runs on the same records tapped different predict outputs")
	}
	lines := strings.Split(strings.TrimSpace(string(taps[0])), "\n")
	if len(lines) < 10 {
		t.Fatalf("%d windows tapped", len(lines))
	}
	for i, l := range lines {
		if !strings.Contains(l, `"plugins":{"pressure.pressure_surge":`) || !strings.Contains(l, `"pressure.cpu_starved":`) {
			t.Fatalf("window %d has no plugin scores: ...%s", i, l[max(0, len(l)-200):])
		}
	}
}

// TestPluginTunerThroughActuate: a tuner plugin's proposal (vm.swappiness
// = 0, from 60) goes through actuate like any change: clamped to the
// allowlist's step (30), journaled before the write, rate-limited after,
// and restored (60) when the run ends. /proc/sys is a directory of the
// test: the kernel boundary.
func TestPluginTunerThroughActuate(t *testing.T) {
	cfg := pluginConfig(t, "always")
	cfg.Daemon.DryRun = false
	cfg.Plugins.Tuners = "act"
	if err := cfg.Daemon.EnsureWorkDir(); err != nil {
		t.Fatal(err)
	}
	procSys := t.TempDir()
	knob := filepath.Join(procSys, "vm", "swappiness")
	os.MkdirAll(filepath.Dir(knob), 0o755)
	os.WriteFile(knob, []byte("60\n"), 0o644)
	tap := filepath.Join(t.TempDir(), "actuate.jsonl")
	var journaled string
	c, taps, err := Assemble(records(decodetest.Mixed(20000, 2, 1e9, 100_000)), ChainOptions{Config: cfg, Live: true,
		Adjust: func(s *StageConfigs) { s.Actuate.ProcSys = procSys; journaled = s.Actuate.JournalPath }},
		[]TapSpec{{Stage: "actuate", Path: tap}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	runErr := c.Pipeline.Run(context.Background())
	if b, _ := os.ReadFile(knob); strings.TrimSpace(string(b)) == "60" {
		t.Errorf("during the run vm.swappiness = %q, unchanged", b)
	}
	if j, err := os.ReadFile(journaled); err != nil || !strings.Contains(string(j), "vm.swappiness") {
		t.Errorf("journal %s: %q, %v", journaled, j, err)
	}
	if err := c.finish(runErr, discardLog(), taps); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(knob); strings.TrimSpace(string(b)) != "60" {
		t.Errorf("after the run vm.swappiness = %q, want 60 restored", b)
	}
	// The rate limit is of real time (1 s per knob): on a slow host the
	// run may last long enough for a second step, 30 -> 0.
	var first string
	var limited int
	for _, l := range tapLines(t, tap) {
		if !strings.Contains(l, `"policy":"plugin:always"`) {
			continue
		}
		if first == "" && strings.Contains(l, `"status":"applied"`) {
			first = l
		}
		if strings.Contains(l, `"status":"rate_limited"`) {
			limited++
		}
	}
	if !strings.Contains(first, `"old":"60","new":"30","clamped":"step bounded to ±30 per change"`) || limited == 0 {
		t.Errorf("plugin:always: first applied %s; %d rate-limited", first, limited)
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestPluginsOverControl: `ainka-cli plugins`' endpoint shows the loaded
// plugin with its calls and CPU time and the refused file with its
// reason; a daemon without plugins says so.
func TestPluginsOverControl(t *testing.T) {
	cfg := pluginConfig(t, "pressure")
	os.WriteFile(filepath.Join(cfg.Plugins.PluginDirs[0], "junk.wasm"), []byte("junk"), 0o644)
	c, err := Build(records(decodetest.Mixed(5000, 2, 1e9, 100_000)), ChainOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer c.closePlugins()
	if err := c.Pipeline.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := controltest.StartServer(t, NewController(c, "replay", true, nil, nil), control.Options{})
	cl := control.NewClient(s.SocketPath())
	defer cl.Close()
	ps, err := cl.Plugins(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Name != "pressure" || ps[0].State != "loaded" || ps[0].Calls == 0 || ps[0].CPUSec <= 0 ||
		ps[1].State != "refused" || !strings.HasSuffix(ps[1].Path, "junk.wasm") || !strings.Contains(ps[1].Reason, "invalid magic number") {
		t.Fatalf("plugins: %+v", ps)
	}
	var m bytes.Buffer
	if err := WriteMetrics(&m, c.Pipeline.Metrics()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# HELP ainka_plugin_calls_total Windows a plugin was called for.",
		fmt.Sprintf(`ainka_plugin_calls_total{plugin="pressure",kind="detector"} %d`, ps[0].Calls),
		`ainka_plugins{state="loaded"} 1`, `ainka_plugins{state="refused"} 1`, "ainka_plugin_disabled_total 0",
		`ainka_plugin_cpu_seconds_total{plugin="pressure",kind="detector"} `,
	} {
		if !strings.Contains(m.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	fs := controltest.StartServer(t, controltest.NewFakeDaemon(), control.Options{})
	fc := control.NewClient(fs.SocketPath())
	defer fc.Close()
	if _, err := fc.Plugins(context.Background()); err == nil || !strings.Contains(err.Error(), "this daemon loads no plugins") {
		t.Fatalf("fake daemon: %v", err)
	}
}
