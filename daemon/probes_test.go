package daemon

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/control/controltest"
	"github.com/ainka/ainka/plugins/probe"
	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/decode/decodetest"
	"github.com/ainka/ainka/stages/source"
	"github.com/ainka/ainka/trace"
)

// probeTrace writes a trace of the declarative example plugin's records
// (as the live capture writes them: the kind and manifest in the header)
// with header probes entries of version abi.
func probeTrace(t *testing.T, abi int) string {
	t.Helper()
	format, err := probe.ReadFormat("../plugins/probe/testdata/tracefs", "signal:signal_generate")
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile("../examples/plugins/probes/signals/plugin.toml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := probe.FromText(text, spec.KindBase, format)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "probe.trace")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := trace.NewWriter(f, trace.Header{SchemaVersion: decode.SchemaVersion, CollectionIntervalMs: 100,
		Probes: []trace.ProbeKind{{ABI: abi, Kind: p.Kind, Version: p.Manifest.Version, Manifest: string(text)}}})
	if err != nil {
		t.Fatal(err)
	}
	// 3 s of signals: 20 per 100 ms, signal 9 or 15 (one in four).
	for i := uint64(0); i < 600; i++ {
		var h record.Header
		h.TsNs, h.Pid, h.Kind = 1e9+i*5e6, 100, spec.KindBase
		rec := record.Append(nil, &record.NetRx{Hdr: h})[:spec.HeaderSize]
		sig := uint64(15)
		if i%4 == 0 {
			sig = 9
		}
		for _, v := range []uint64{sig, 0, 200 + i%3} {
			rec = binary.LittleEndian.AppendUint64(rec, v)
		}
		if err := w.WriteRecord(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func replayTaps(t *testing.T, path string) (string, error) {
	t.Helper()
	cfg := config.Default()
	cfg.Policy.PolicyFile, cfg.ML.ModelPath = "", ""
	cfg.Daemon.SocketPath = ""
	var out bytes.Buffer
	o := Options{Config: cfg, Stdout: &out, Stderr: io.Discard, Taps: []TapSpec{{Stage: "predict"}}}
	err := Replay(context.Background(), o, ReplayOptions{Path: path, Repeat: 1})
	return out.String(), err
}

// TestReplayProbeTrace: a trace holding a probe plugin's records replays
// with its kind from the header alone (no plugin, no tracefs), its
// features scored in predict, and twice the same.
func TestReplayProbeTrace(t *testing.T) {
	path := probeTrace(t, trace.ProbeABI)
	a, err := replayTaps(t, path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := replayTaps(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("two replays of the same trace differ")
	}
	for _, want := range []string{`"signals.signals_per_s":{"value":200,"score":`, `"signals.kinds":{"value":2,`, `"signals.top_share":{"value":0.75,`} {
		if !strings.Contains(a, want) {
			t.Errorf("predict tap lacks %s", want)
		}
	}
	// A header version this ainka does not know is refused, naming both.
	_, err = replayTaps(t, probeTrace(t, trace.ProbeABI+1))
	if err == nil || !strings.Contains(err.Error(), "probe plugin signals: trace header version 2, this ainka reads 1") {
		t.Fatalf("future probe header: %v", err)
	}
}

// TestProbesRefusedOverControl: a probe plugin that fails its checks is
// refused by LoadProbes with the reason (nothing reaches the kernel), and
// `ainka-cli plugins`' endpoint lists it beside the logic plugins.
func TestProbesRefusedOverControl(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "liar")
	os.MkdirAll(dir, 0o755)
	m, err := os.ReadFile("../examples/plugins/probes/proclife/plugin.toml")
	if err != nil {
		t.Fatal(err)
	}
	o, err := os.ReadFile("../examples/plugins/probes/proclife/proclife_bpfel.o")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "plugin.toml"), []byte(strings.Replace(string(m), "size = 56", "size = 64", 1)), 0o644)
	os.WriteFile(filepath.Join(dir, "proclife_bpfel.o"), o, 0o644)
	loaded, refused := LoadProbes([]string{filepath.Dir(dir)}, nil)
	if len(loaded) != 0 || len(refused) != 1 || refused[0].Kind != "probe" || refused[0].Path != dir ||
		!strings.Contains(refused[0].Reason, "struct proclife_record is 56 bytes, the manifest says 64") {
		t.Fatalf("loaded %d, refused %+v", len(loaded), refused)
	}
	c, err := Build(records(decodetest.Mixed(100, 1, 1e9, 100_000)), ChainOptions{ProbeRefused: refused})
	if err != nil {
		t.Fatal(err)
	}
	s := controltest.StartServer(t, NewController(c, "replay", true, nil, nil), control.Options{})
	cl := control.NewClient(s.SocketPath())
	defer cl.Close()
	ps, err := cl.Plugins(context.Background())
	if err != nil || len(ps) != 1 || ps[0].State != "refused" || ps[0].Kind != "probe" || ps[0].Reason != refused[0].Reason {
		t.Fatalf("plugins: %+v, %v", ps, err)
	}
}

// TestKindSummaryCountsProbes: the summary line of `ainka record` and of
// a run counts a probe plugin's records as a built-in kind's, and names a
// plugin that saw nothing.
func TestKindSummaryCountsProbes(t *testing.T) {
	var s source.Stats
	s[record.KindNetRx] = source.KindStats{Seen: 10, Emitted: 10, Read: 9, Lost: 1}
	probes := []source.ProbeStats{
		{Name: "proclife", Kind: spec.KindBase, KindStats: source.KindStats{Seen: 7, Emitted: 7, Read: 6, Lost: 1, Dropped: 2}},
		{Name: "signals", Kind: spec.KindBase + 1},
	}
	got := kindSummary(s, probes, nil)
	want := "net_rx emitted=10 written=9 lost=1 dropped=0; proclife emitted=7 written=4 lost=1 dropped=2; signals emitted=0 written=0 lost=0 dropped=0"
	if got != want {
		t.Errorf("record summary:\n got %s\nwant %s", got, want)
	}
	got = kindSummary(s, probes, func(k uint16) uint64 { return uint64(k) })
	if !strings.Contains(got, "proclife emitted=7 decoded=64 lost=1 dropped=2") {
		t.Errorf("run summary: %s", got)
	}
}

// TestPolicyNamesPluginOutputs: policies name a probe plugin's feature and
// a detector plugin's score as PLUGIN.NAME, and decide fires on them in a
// replay of a probe plugin's trace with the example detector loaded; a
// policy naming a plugin output no plugin has never fires.
func TestPolicyNamesPluginOutputs(t *testing.T) {
	cfg := pluginConfig(t, "pressure")
	cfg.Daemon.SocketPath = ""
	os.WriteFile(cfg.Policy.PolicyFile, []byte(`
[[policy]]
name = "many-signals"
condition = "signals.signals_per_s > 150 and signals.kinds == 2 for 1s"
action = "notify"
[[policy]]
name = "pressure-known"
condition = "pressure.pressure_surge >= 0"
action = "notify"
[[policy]]
name = "no-such-plugin"
condition = "gone.feature > 0 or not (gone.feature > 0)"
action = "notify"
`), 0o644)
	tap := filepath.Join(t.TempDir(), "decide.jsonl")
	o := Options{Config: cfg, Stdout: io.Discard, Stderr: io.Discard, Taps: []TapSpec{{Stage: "decide", Path: tap}}}
	if err := Replay(context.Background(), o, ReplayOptions{Path: probeTrace(t, trace.ProbeABI), Repeat: 1}); err != nil {
		t.Fatal(err)
	}
	fired := map[string]int{}
	for _, l := range tapLines(t, tap) {
		for _, p := range []string{"many-signals", "pressure-known", "no-such-plugin"} {
			if strings.Contains(l, `"policy":"`+p+`"`) {
				fired[p]++
			}
		}
	}
	if fired["many-signals"] == 0 || fired["pressure-known"] == 0 || fired["no-such-plugin"] != 0 {
		t.Fatalf("decisions per policy: %v", fired)
	}
}
