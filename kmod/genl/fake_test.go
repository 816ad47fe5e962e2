package genl

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

func TestFakeCommandsAndEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := NewFake()
	ch, err := f.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint32(1); i <= 5; i++ {
		p := Policy{ID: i, Metric: MetricNrRunning, Cmp: CmpGT, Threshold: 10, Action: ActionNotify, Priority: i % 2}
		if err := f.SetPolicy(ctx, p); err != nil {
			t.Fatalf("SetPolicy %d: %v", i, err)
		}
	}
	ps, err := f.Policies(ctx)
	if err != nil || len(ps) != 5 || ps[0].ID != 1 || ps[1].ID != 3 || ps[4].ID != 4 {
		t.Fatalf("Policies order = %+v, %v", ps, err)
	}
	if err := f.DelPolicy(ctx, 9); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DelPolicy(9) = %v, want ErrNotFound", err)
	}
	if err := f.SetRecommendation(ctx, "sched.latency_ns", 42); err != nil {
		t.Fatal(err)
	}
	if v, err := f.Recommendation(ctx, "sched.latency_ns"); err != nil || v != 42 {
		t.Fatalf("Recommendation = %d, %v", v, err)
	}
	if err := f.SetState(ctx, StateEmergency); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-ch:
		if e.Type != EventStateChange || e.State != StateEmergency || e.PrevState != StateLearning {
			t.Fatalf("event = %+v", e)
		}
	case <-time.After(time.Second):
		t.Fatal("no state change event")
	}
	if _, err := f.Actuate(ctx, Actuation{Kind: ActionRenice, PID: uint32(os.Getpid()), Value: 5}); err != nil {
		t.Fatal(err)
	}
	if err := f.Reset(ctx); err != nil || len(f.Actuations()) != 0 {
		t.Fatalf("Reset left %v, %v", f.Actuations(), err)
	}
	f.Emit(Event{Type: EventDecision, RuleID: 3})
	for e := range ch {
		if e.Type == EventDecision {
			if e.RuleID != 3 || e.Seq == 0 {
				t.Fatalf("decision = %+v", e)
			}
			break
		}
	}
	f.Close()
	if _, err := f.Status(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Status after Close = %v", err)
	}
}

func TestParseEventRejectsGarbage(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":      {},
		"not event":  {cmdGetStatus, 1, 0, 0},
		"no type":    {cmdEvent, 1, 0, 0},
		"overlong":   {cmdEvent, 1, 0, 0, 200, 0, 36, 0, 1, 0, 0, 0},
		"short attr": {cmdEvent, 1, 0, 0, 2, 0, 36, 0},
	} {
		if _, err := ParseEvent(b); err == nil {
			t.Errorf("%s: ParseEvent accepted %v", name, b)
		}
	}
	ev := []byte{cmdEvent, 1, 0, 0, 8, 0, attrEventType, 0, 1, 0, 0, 0}
	e, err := ParseEvent(ev)
	if err != nil || e.Type != EventDecision {
		t.Fatalf("ParseEvent = %+v, %v", e, err)
	}
}

func TestDialWithoutModule(t *testing.T) {
	c, err := Dial()
	if err == nil {
		c.Close()
		t.Skip("ainka_core is loaded here: covered by the VM tests")
	}
	if !errors.Is(err, ErrNotLoaded) {
		t.Fatalf("Dial without the module = %v, want ErrNotLoaded", err)
	}
}
