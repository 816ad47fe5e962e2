package daemon

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/ainka/ainka/bpf"
	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/internal/testenv"
	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/stages/source"
)

const signalsPlugin = "../examples/plugins/probes/signals"

// sendSignals sends n SIGCONT to a sleeping child and returns when done.
func sendSignals(t *testing.T, n int) {
	t.Helper()
	child := exec.Command("/bin/sleep", "30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	sh := exec.Command("/bin/sh", "-c", fmt.Sprintf("i=0; while [ $i -lt %d ]; do kill -CONT %d; i=$((i+1)); done", n, child.Process.Pid))
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
}

// TestLiveProbeStatusAndRecordSummary (root, real kernel): the daemon's
// plugin listing shows a loaded probe plugin with its record kind and the
// records its kind counted; `ainka record`'s summary line counts the
// plugin's records like a built-in kind's.
func TestLiveProbeStatusAndRecordSummary(t *testing.T) {
	if err := bpf.Preflight(); err != nil {
		testenv.SkipUnlessVM(t, "real-kernel test skipped: %v", err)
	}
	capture := source.Config{Policy: source.Policy{Kinds: []record.Kind{record.KindHostSample}}, RingBytes: 1 << 20}
	var stderr bytes.Buffer
	path := filepath.Join(t.TempDir(), "signals.trace")
	done := make(chan error, 1)
	go func() {
		done <- Record(context.Background(), RecordOptions{Path: path, Duration: 1500 * time.Millisecond, Stderr: &stderr,
			ProbeDirs: []string{signalsPlugin}}, capture)
	}()
	// Signals until the recording ends: loading the plugin may take long
	// on a busy host, so no fixed wait says when it is attached.
	var err error
	for sent := false; !sent; {
		select {
		case err = <-done:
			sent = true
		default:
			sendSignals(t, 50)
		}
	}
	if err != nil {
		t.Fatalf("record: %v\n%s", err, stderr.String())
	}
	m := regexp.MustCompile(`signals emitted=(\d+) written=(\d+) lost=0 dropped=0`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("summary line lacks the plugin kind:\n%s", stderr.String())
	}
	if e, _ := strconv.Atoi(m[1]); e < 50 || m[1] != m[2] {
		t.Errorf("signals emitted %s written %s, want >= 50 and equal", m[1], m[2])
	}

	loaded, refused := LoadProbes([]string{signalsPlugin}, nil)
	if len(loaded) != 1 || len(refused) != 0 {
		t.Fatalf("loaded %d, refused %+v", len(loaded), refused)
	}
	capture.Probes = loaded
	live, err := OpenLive(capture)
	if err != nil {
		closeProbes(loaded)
		t.Fatal(err)
	}
	defer live.Close()
	sendSignals(t, 50)
	st := probeStatus(live, nil)
	if len(st) != 1 || st[0].Name != "signals" || st[0].State != "loaded" || st[0].Kind != "probe" || st[0].Probe == nil ||
		st[0].Probe.RecordKind != spec.KindBase || st[0].Probe.Form != "tracepoint" ||
		st[0].Probe.Programs[0] != "tracepoint signal:signal_generate" || st[0].Probe.Seen < 50 || st[0].Probe.Emitted < 50 {
		t.Fatalf("status %+v %+v", st, st[0].Probe)
	}
}
