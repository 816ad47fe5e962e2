package daemon

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/stages/actuate"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decode/decodetest"
)

// paced emits recs in chunks, one every period, then waits for ctx: a
// host that keeps producing windows while the test talks to the daemon.
func paced(recs [][]byte, chunk int, period time.Duration) pipeline.Source[[]byte] {
	return pipeline.SourceFunc[[]byte](func(ctx context.Context, out *pipeline.Emitter[[]byte]) error {
		t := time.NewTicker(period)
		defer t.Stop()
		for len(recs) > 0 {
			n := min(chunk, len(recs))
			b := out.Batch()
			b.Items = append(b.Items, recs[:n]...)
			recs = recs[n:]
			if err := out.Send(ctx, b); err != nil {
				return err
			}
			select {
			case <-t.C:
			case <-ctx.Done():
				return nil
			}
		}
		<-ctx.Done()
		return nil
	})
}

// TestOptimizeThroughPipeline: an Optimize request's decisions go down the
// running pipeline, so the decide and actuate taps show them, marked with
// the request's number, and the answer carries actuate's results.
func TestOptimizeThroughPipeline(t *testing.T) {
	recs := decodetest.Mixed(120_000, 2, 1e9, 1e6) // 120 s of event time
	c, err := Build(paced(recs, 200, 5*time.Millisecond), ChainOptions{Adjust: func(s *StageConfigs) {
		s.Decide.LearningDuration, s.Decide.EvalInterval = -1, time.Hour // only Optimize evaluates
	}})
	if err != nil {
		t.Fatal(err)
	}
	var dtap, atap bytes.Buffer
	for stage, w := range map[string]*bytes.Buffer{"decide": &dtap, "actuate": &atap} {
		if err := c.Pipeline.Tap(stage, w, pipeline.TapOptions{Lossless: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []decide.Policy{
		{Name: "always", Condition: "syscalls_per_s >= 0", Action: "sysctl vm.swappiness -= 1", Enabled: true},
		{Name: "never", Condition: "syscalls_per_s >= 0 and syscalls_per_s > 1e12", Action: "sysctl vm.dirty_ratio -= 1", Enabled: true},
	} {
		if err := c.Decide.AddPolicy(p); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Pipeline.Run(ctx) }()
	ctl := NewController(c, "replay", true, nil, nil)
	var res control.OptimizeResult
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if res, err = ctl.Optimize(ctx); err == nil && len(res.Decisions) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no decision from Optimize: %v %+v", err, res)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	d := res.Decisions[0]
	if d.Policy != "always" || !d.Matched || len(d.Changes) != 1 || d.Changes[0].Knob != "sysctl:vm.swappiness" || d.Applied {
		t.Errorf("decision %+v", d)
	}
	// Every policy is in the answer: the one that matched with its values,
	// the other with the term that was false.
	if len(res.Policies) != 2 || !res.Policies[0].Matched || !strings.HasPrefix(res.Policies[0].Why, "syscalls_per_s >= 0 [syscalls_per_s=") ||
		res.Policies[1].Matched || !strings.HasPrefix(res.Policies[1].Why, "syscalls_per_s > 1e+12 is false [syscalls_per_s=") {
		t.Errorf("policies %+v", res.Policies)
	}
	if !strings.Contains(dtap.String(), `"policy":"always"`) || !strings.Contains(dtap.String(), `"request":`) {
		t.Errorf("decide tap does not show the request's decision:\n%s", dtap.String())
	}
	if !strings.Contains(atap.String(), `"request":`) {
		t.Errorf("actuate tap does not show the request's result:\n%s", atap.String())
	}
}

// Every knob an action touched is reported, not only the last one.
func TestOptimizeDecisionEveryKnob(t *testing.T) {
	d := decide.Decision{Kind: decide.Apply, Policy: "hogs", Condition: "cpu_busy_pct > 90"}
	rs := []actuate.Result{
		{Kind: decide.Apply, Policy: "hogs", Knob: "cgroup:/a/cpu.weight", Old: "100", New: "50", Status: actuate.Applied},
		{Kind: decide.Apply, Policy: "other", Knob: "sysctl:vm.swappiness", Status: actuate.Applied},
		{Kind: decide.Apply, Policy: "hogs", Knob: "cgroup:/b/cpu.weight", Old: "100", New: "50", Status: actuate.Failed, Err: "EACCES"},
	}
	got := optimizeDecision(&d, rs)
	if len(got.Changes) != 2 || got.Changes[0].Knob != "cgroup:/a/cpu.weight" || got.Changes[1].Knob != "cgroup:/b/cpu.weight" {
		t.Errorf("changes %+v", got.Changes)
	}
	if got.Applied || got.Error != "EACCES" {
		t.Errorf("applied %v error %q: a failed knob is not applied", got.Applied, got.Error)
	}
	rs[2].Status, rs[2].Err = actuate.Applied, ""
	if got := optimizeDecision(&d, rs); !got.Applied || got.Error != "" {
		t.Errorf("all applied: %+v", got)
	}
}
