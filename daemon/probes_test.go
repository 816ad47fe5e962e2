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
	"github.com/ainka/ainka/plugins/probe"
	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/stages/decode"
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
