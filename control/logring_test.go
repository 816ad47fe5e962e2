package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"
)

func TestLogRingBoundedAndOrdered(t *testing.T) {
	r := NewLogRing(3)
	log := slog.New(r.Handler(nil))
	for i := 0; i < 5; i++ {
		log.Info("m", "i", i)
	}
	log.Debug("hidden") // below the nil handler's Info level
	es, last := r.Since(time.Time{})
	if len(es) != 3 || last != 5 {
		t.Fatalf("held %d entries, last seq %d; want 3, 5", len(es), last)
	}
	for k, e := range es {
		if e.Attrs["i"] != int64(k+2) || e.Seq != uint64(k+3) {
			t.Errorf("entry %d = %+v", k, e)
		}
	}
}

func TestLogRingSince(t *testing.T) {
	r := NewLogRing(10)
	h := r.Handler(nil)
	now := time.Now()
	for _, age := range []time.Duration{time.Hour, time.Minute, time.Second} {
		rec := slog.NewRecord(now.Add(-age), slog.LevelInfo, age.String(), 0)
		h.Handle(context.Background(), rec)
	}
	es, _ := r.Since(now.Add(-2 * time.Minute))
	if len(es) != 2 || es[0].Msg != "1m0s" || es[1].Msg != "1s" {
		t.Fatalf("since 2m = %+v", es)
	}
}

func TestLogRingHandlerPassesThroughAndFlattens(t *testing.T) {
	var out bytes.Buffer
	r := NewLogRing(10)
	next := slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelWarn})
	log := slog.New(r.Handler(next)).With("stage", "decide").WithGroup("policy").With("name", "cpu_high")
	log.Info("filtered by next's level")
	log.Warn("fired", "value", 97.5, slog.Group("knob", "path", "vm.swappiness"),
		"err", errors.New("boom"), "nan", math.NaN(), "d", 2*time.Second, "ch", make(chan int))
	es, _ := r.Since(time.Time{})
	if len(es) != 1 {
		t.Fatalf("ring holds %d entries, want 1 (the Info is below next's level)", len(es))
	}
	want := map[string]any{"stage": "decide", "policy.name": "cpu_high", "policy.value": 97.5,
		"policy.knob.path": "vm.swappiness", "policy.err": "boom", "policy.nan": "NaN", "policy.d": "2s"}
	for k, v := range want {
		if es[0].Attrs[k] != v {
			t.Errorf("attr %s = %#v, want %#v", k, es[0].Attrs[k], v)
		}
	}
	if _, err := json.Marshal(es[0]); err != nil {
		t.Errorf("entry does not marshal: %v", err)
	}
	if !strings.Contains(out.String(), `"msg":"fired"`) || !strings.Contains(out.String(), `"policy":{"name":"cpu_high"`) {
		t.Errorf("next handler output = %s", out.String())
	}
}

func TestLogRingSlowFollowerDrops(t *testing.T) {
	r := NewLogRing(100)
	ch, cancel := r.Subscribe(2)
	log := slog.New(r.Handler(nil))
	for i := 0; i < 5; i++ {
		log.Info("x")
	}
	if len(ch) != 2 || r.Dropped() != 3 {
		t.Fatalf("queued %d, dropped %d; want 2, 3", len(ch), r.Dropped())
	}
	cancel()
	cancel() // twice is fine
	log.Info("after")
	if len(ch) != 2 {
		t.Fatalf("cancelled subscription still receives")
	}
}

func TestRates(t *testing.T) {
	var r rateSampler
	t0 := time.Now()
	st := func(in, out, drop uint64) Status {
		return Status{UptimeSec: 10, Stages: []StageStatus{{Name: "decode", In: in, Out: out, Dropped: drop}}}
	}
	// No sample yet: averages over the uptime.
	s := st(1000, 900, 100)
	r.fill(&s, t0)
	if s.Stages[0].InPerSec != 100 {
		t.Fatalf("rate over uptime = %v, want 100", s.Stages[0].InPerSec)
	}
	r.add(st(1000, 900, 100), t0)
	r.add(st(1500, 1300, 200), t0.Add(1500*time.Millisecond))
	// At t0+2s the newest sample at least 1s old is the first one.
	s = st(3000, 2900, 100+200)
	r.fill(&s, t0.Add(2*time.Second))
	if g := s.Stages[0]; g.InPerSec != 1000 || g.OutPerSec != 1000 || g.DropPerSec != 100 {
		t.Fatalf("rates = %+v, want 1000/1000/100", g)
	}
	// Counters that went backwards (the daemon reset them) give no rate.
	s = st(10, 10, 0)
	r.fill(&s, t0.Add(3*time.Second))
	if s.Stages[0].InPerSec != 0 {
		t.Fatalf("rate after a reset = %v", s.Stages[0].InPerSec)
	}
	for i := 0; i < 10; i++ {
		r.add(st(0, 0, 0), t0)
	}
	if len(r.samples) != maxSamples {
		t.Fatalf("samples kept = %d", len(r.samples))
	}
}
