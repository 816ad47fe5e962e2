package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/control/controltest"
)

// pluginDaemon is the fake daemon with plugins: a detector, a probe
// plugin with its record counts and a refused probe plugin.
type pluginDaemon struct{ *controltest.FakeDaemon }

func (pluginDaemon) Plugins(context.Context) ([]control.Plugin, error) {
	return []control.Plugin{
		{Name: "pressure", Version: "1.0.0", Kind: "detector", Path: "/p/pressure.wasm", State: "loaded", Calls: 40, Outputs: 80, CPUSec: 0.0012},
		{Name: "proclife", Version: "1.0.0", Kind: "probe", Path: "/p/proclife", State: "loaded", Features: []string{"proclife.exits_per_s"},
			Calls: 1250, CPUSec: 0.000345,
			Probe: &control.ProbePlugin{Form: "object", Programs: []string{"proclife_exit tp_btf sched_process_exit"}, RecordKind: 64,
				RecordSize: 56, Seen: 1234, Emitted: 1200, Lost: 3, Read: 1197, Dropped: 2}},
		{Kind: "probe", Path: "/p/liar", State: "refused", Reason: "struct proclife_record is 56 bytes, the manifest says 64"},
	}, nil
}

// TestPluginsCommand: `ainka-cli plugins` shows logic and probe plugins,
// the probe plugins with their records seen, emitted, lost and dropped
// and their programs' runs and kernel CPU time, as tables and as JSON.
func TestPluginsCommand(t *testing.T) {
	s := controltest.StartServer(t, pluginDaemon{controltest.NewFakeDaemon()}, control.Options{})
	res := controltest.RunCLI(t, cliBin, s.SocketPath(), "plugins")
	for _, want := range []string{
		"pressure  1.0.0    detector  loaded  40     80       1.2ms  /p/pressure.wasm",
		"proclife  1.0.0    probe  loaded   object  proclife_exit tp_btf sched_process_exit  1234  1200     3     2        1250  345µs  proclife.exits_per_s  /p/proclife",
		"-         -        probe  refused  -       -                                        -     -        -     -        -     -      -                     /p/liar      struct proclife_record is 56 bytes",
	} {
		if res.Code != 0 || !strings.Contains(res.Stdout, want) {
			t.Errorf("exit %d, want %q in:\n%s%s", res.Code, want, res.Stdout, res.Stderr)
		}
	}
	res = controltest.RunCLI(t, cliBin, s.SocketPath(), "plugins", "--json")
	var ps []control.Plugin
	if err := json.Unmarshal([]byte(res.Stdout), &ps); res.Code != 0 || err != nil || len(ps) != 3 || ps[1].Probe == nil || ps[1].Probe.Lost != 3 {
		t.Fatalf("--json: exit %d, %v, %+v\n%s", res.Code, err, ps, res.Stdout)
	}
}
