package daemon

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/settings"
	"github.com/ainka/ainka/stages/aggregate"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/decode/decodetest"
)

// records is a source of a fixed set of raw records, then end of input.
func records(recs [][]byte) pipeline.Source[[]byte] {
	return pipeline.SourceFunc[[]byte](func(ctx context.Context, out *pipeline.Emitter[[]byte]) error {
		b := out.Batch()
		b.Items = append(b.Items, recs...)
		return out.Send(ctx, b)
	})
}

// untilCancelled is a source that emits nothing until ctx is done, as a
// quiet live host does.
func untilCancelled() pipeline.Source[[]byte] {
	return pipeline.SourceFunc[[]byte](func(ctx context.Context, out *pipeline.Emitter[[]byte]) error {
		<-ctx.Done()
		return nil
	})
}

// TestStageNames: the names read off join are the built chain's, in the
// order of the flow.
func TestStageNames(t *testing.T) {
	c, err := Build(records(nil), ChainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"source", "decode", "aggregate", "features", "predict", "tune", "decide", "actuate"}
	if got := c.Pipeline.Stages(); !slices.Equal(got, want) || !slices.Equal(StageNames, want) {
		t.Fatalf("built stages %v, StageNames %v, want %v", got, StageNames, want)
	}
}

// TestWrapStage: a wrapper sees every batch of its stage, and the chain's
// output is the same as without it.
func TestWrapStage(t *testing.T) {
	recs := decodetest.Mixed(5000, 2, 1e9, 10_000)
	var seen int
	w := WrapStage("aggregate", func(p pipeline.Processor[decode.Event, aggregate.Window]) pipeline.Processor[decode.Event, aggregate.Window] {
		return countingAgg{Stage: p.(*aggregate.Stage), n: &seen}
	})
	c, err := Build(records(recs), ChainOptions{Wrap: []Wrapper{w}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Pipeline.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if uint64(seen) != c.Decoder.Decoded() || seen == 0 {
		t.Fatalf("wrapper saw %d events, decode decoded %d", seen, c.Decoder.Decoded())
	}
	if c.Aggregator.Windows == 0 {
		t.Fatal("no windows through the wrapped aggregator")
	}
}

type countingAgg struct {
	*aggregate.Stage
	n *int
}

func (c countingAgg) Process(in []decode.Event, out []aggregate.Window) []aggregate.Window {
	*c.n += len(in)
	return c.Stage.Process(in, out)
}

// TestWrapStageErrors: a wrapper of the wrong type or of no stage fails
// the build, naming the stage.
func TestWrapStageErrors(t *testing.T) {
	id := func(p pipeline.Processor[int, int]) pipeline.Processor[int, int] { return p }
	for _, tc := range []struct {
		w    Wrapper
		want string
	}{
		{WrapStage("decode", id), "wrap stage decode: want a func(pipeline.Processor[[]uint8, decode.Event])"},
		{WrapStage("nosuch", id), `wrap stage "nosuch": unknown stage`},
		{WrapStage("source", id), `wrap stage "source": unknown stage`},
	} {
		_, err := Build(records(nil), ChainOptions{Wrap: []Wrapper{tc.w}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want it to contain %q", err, tc.want)
		}
	}
}

// TestSettingsReachStages: the interval and lateness resolved once are
// what aggregate and predict use.
func TestSettingsReachStages(t *testing.T) {
	var got StageConfigs
	_, err := Build(records(nil), ChainOptions{
		Settings: settings.Settings{Interval: 40 * time.Millisecond, Lateness: 3 * time.Millisecond, BootOffsetNs: 7},
		Adjust:   func(s *StageConfigs) { got = *s },
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Aggregate.Interval != 40*time.Millisecond || got.Aggregate.Lateness != 3*time.Millisecond {
		t.Errorf("aggregate interval %s lateness %s", got.Aggregate.Interval, got.Aggregate.Lateness)
	}
	if got.Predict.Window != 40*time.Millisecond || got.Predict.BootOffsetNs != 7 {
		t.Errorf("predict window %s boot offset %d", got.Predict.Window, got.Predict.BootOffsetNs)
	}
	got = StageConfigs{}
	if _, err := Build(records(nil), ChainOptions{Adjust: func(s *StageConfigs) { got = *s }}); err != nil {
		t.Fatal(err)
	}
	if got.Predict.Window != settings.DefaultInterval {
		t.Errorf("default predict window %s, want %s", got.Predict.Window, settings.DefaultInterval)
	}
}

// TestTunersLeaveKernelAndOwnTasks: live, the tuners take only users'
// tasks (kthreadd is a kernel thread, the daemon is its own); a replay's
// pids are not this host's, so it asks nothing of /proc.
func TestTunersLeaveKernelAndOwnTasks(t *testing.T) {
	live, err := tuneConfig(nil, "", true)
	if err != nil {
		t.Fatal(err)
	}
	if live.Tunable == nil || live.Tunable(2) || live.Tunable(uint32(os.Getpid())) || !live.Tunable(1) {
		t.Fatalf("live Tunable must refuse kthreadd and the daemon, take init")
	}
	replay, err := tuneConfig(nil, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if live.Streamer == nil || live.Streamer(2) {
		t.Error("live Streamer unset, or kthreadd (which reads nothing) a streamer")
	}
	if replay.Tunable != nil || replay.Streamer != nil {
		t.Error("a replay's tuners read the host's tasks")
	}
}
