package source

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/plugins/probe"
	"github.com/ainka/ainka/plugins/probe/spec"
)

// loadSignals loads the declarative example plugin as kind k.
func loadSignals(t *testing.T, k uint16) *probe.Loaded {
	t.Helper()
	pl, err := probe.Open("../../examples/plugins/probes/signals", k, "")
	if err != nil {
		t.Fatal(err)
	}
	l, err := pl.Load(0)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestChangeProbe (root, real kernel): a running source swaps a plugin's
// programs, adds a kind and removes one between two reads. Every record
// of the child's signals reaches the pipeline once per kind attached, and
// the swapped kind's accounting adds up exactly over both programs, as a
// built-in kind's does over a run.
func TestChangeProbe(t *testing.T) {
	needKernel(t)
	if err := EnsureTracefs(); err != nil {
		t.Fatal(err)
	}
	child := exec.Command("/bin/sleep", "30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	pid := float64(child.Process.Pid)
	first := loadSignals(t, spec.KindBase)
	target := first.Kind.Fields[2]
	matches := map[uint16]uint64{}
	c := &kindCounter{count: map[uint16]uint64{}, want: func(rec []byte) bool {
		ok := len(rec) == first.Kind.Size && target.Value(rec) == pid
		if ok {
			matches[uint16(record.RecordKind(rec))]++ // under c.mu
		}
		return ok
	}}
	l, err := NewLive(Config{Policy: Policy{Kinds: []record.Kind{record.KindHostSample}}, Probes: []*probe.Loaded{first}})
	if err != nil {
		first.Close()
		t.Fatal(err)
	}
	p := pipeline.New(pipeline.Options{QueueLen: 64}) // room: a dropped batch would miss signals
	src := pipeline.AddSource[[]byte](p, "source", l)
	pipeline.AddStage[[]byte, struct{}](p, "count", src, c)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	signal := func(n int) {
		sh := exec.Command("/bin/sh", "-c", fmt.Sprintf("i=0; while [ $i -lt %d ]; do kill -CONT %d; i=$((i+1)); done", n, child.Process.Pid))
		if out, err := sh.CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	change := func(kind uint16, p *probe.Loaded) {
		if err := l.ChangeProbe(ctx, kind, p); err != nil {
			t.Fatalf("change kind %d: %v", kind, err)
		}
	}
	signal(100)
	change(spec.KindBase, loadSignals(t, spec.KindBase)) // swap: attach the new, detach the old
	signal(100)
	change(0, loadSignals(t, spec.KindBase+1)) // add
	signal(100)
	change(spec.KindBase+1, nil) // remove
	signal(100)
	bad := loadSignals(t, spec.KindBase+1)
	if err := l.ChangeProbe(ctx, spec.KindBase+5, bad); !errors.Is(err, ErrNoProbeKind) {
		t.Errorf("swap of a kind not read: %v", err)
	}
	bad.Close()
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	if err := l.ChangeProbe(context.Background(), 0, nil); !errors.Is(err, ErrNotRunning) {
		t.Errorf("change after the run: %v", err)
	}
	ps := l.ProbeStats()
	if len(ps) != 1 || ps[0].Kind != spec.KindBase {
		t.Fatalf("probe stats %+v", ps)
	}
	s := ps[0]
	if s.Emitted != s.Read+s.Lost || s.Read != c.count[spec.KindBase]+s.Dropped || s.Seen != s.Emitted+s.Filtered {
		t.Errorf("swapped kind: %+v, delivered %d: accounting does not add up", s.KindStats, c.count[spec.KindBase])
	}
	// The signals are sent between the changes (kill's tracepoint fires
	// in the syscall), so each is recorded once per kind attached.
	if m := matches[spec.KindBase]; m != 400 || s.Lost+s.Dropped != 0 {
		t.Errorf("kind %d: %d of the child's 400 signals, %+v", spec.KindBase, m, s.KindStats)
	}
	if m := matches[spec.KindBase+1]; m != 100 {
		t.Errorf("added then removed kind: %d of the child's signals, want the 100 sent while it ran", m)
	}
}
