package source

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/plugins/probe"
	"github.com/ainka/ainka/plugins/probe/spec"
)

// kindCounter counts records per kind, plugin kinds included.
type kindCounter struct {
	mu    sync.Mutex
	count map[uint16]uint64
	match uint64
	want  func(rec []byte) bool
}

func (c *kindCounter) Process(in [][]byte, out []struct{}) []struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rec := range in {
		c.count[uint16(record.RecordKind(rec))]++
		if c.want(rec) {
			c.match++
		}
	}
	return out
}

// TestLiveProbePlugin reads the declarative example plugin's ring with
// the built-in syscall kind: its records reach the pipeline in the same
// batches, and its kind is accounted exactly, as the built-in ones are.
func TestLiveProbePlugin(t *testing.T) {
	needKernel(t)
	if err := EnsureTracefs(); err != nil {
		t.Fatal(err)
	}
	pl, err := probe.Open("../../examples/plugins/probes/signals", spec.KindBase, "")
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := pl.Load(0)
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command("/bin/sleep", "30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	sig := pl.Kind.Fields[0]
	target := pl.Kind.Fields[2]
	c := &kindCounter{count: map[uint16]uint64{}, want: func(rec []byte) bool {
		return record.RecordKind(rec) == spec.KindBase && len(rec) == pl.Kind.Size &&
			sig.Value(rec) == 18 && target.Value(rec) == float64(child.Process.Pid)
	}}
	set := metrics.NewSet()
	l, err := NewLive(Config{Policy: Policy{Kinds: []record.Kind{record.KindSyscall, record.KindHostSample}, IncludeSelf: true},
		RingBytes: 1 << 20, Metrics: set, Probes: []*probe.Loaded{loaded}})
	if err != nil {
		loaded.Close()
		t.Fatal(err)
	}
	const n = 300
	p := pipeline.New(pipeline.Options{QueueLen: 4})
	src := pipeline.AddSource[[]byte](p, "source", l)
	pipeline.AddStage[[]byte, struct{}](p, "count", src, c)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	time.Sleep(20 * time.Millisecond)
	sh := exec.Command("/bin/sh", "-c", fmt.Sprintf("i=0; while [ $i -lt %d ]; do kill -CONT %d; i=$((i+1)); done", n, child.Process.Pid))
	out, err := sh.CombinedOutput()
	time.Sleep(100 * time.Millisecond)
	cancel()
	if perr := <-done; perr != nil {
		t.Fatalf("pipeline: %v", perr)
	}
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	ps := l.ProbeStats()
	if len(ps) != 1 || ps[0].Name != "signals" || ps[0].Kind != spec.KindBase {
		t.Fatalf("probe stats %+v", ps)
	}
	s := ps[0]
	if s.Emitted != s.Read+s.Lost || s.Read != c.count[spec.KindBase]+s.Dropped || s.Seen != s.Emitted+s.Filtered {
		t.Errorf("signals: %+v, delivered %d: accounting does not add up", s.KindStats, c.count[spec.KindBase])
	}
	if c.match != n || c.count[uint16(record.KindSyscall)] == 0 {
		t.Errorf("%d SIGCONT records for the child, want %d; kinds %v", c.match, n, c.count)
	}
	var buf bytes.Buffer
	set.WritePrometheus(&buf)
	for _, m := range []string{`ainka_bpf_seen_total{kind="signals"} `, `ainka_bpf_emitted_total{kind="signals"} `, `ainka_ringbuf_lost_total{kind="signals"} 0`, `ainka_source_dropped_total{kind="signals"} `} {
		if !bytes.Contains(buf.Bytes(), []byte(m)) {
			t.Errorf("metrics lack %s", m)
		}
	}
}
