package daemon

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/config"
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

func TestStageNames(t *testing.T) {
	c, err := Build(records(nil), ChainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Pipeline.Stages(); !slices.Equal(got, StageNames) {
		t.Fatalf("built stages %v, StageNames %v", got, StageNames)
	}
}

// TestWrapStage: a wrapper sees every batch of its stage, and the chain's
// output is the same as without it.
func TestWrapStage(t *testing.T) {
	recs := decodetest.Mixed(5000, 2, 1e9, 10_000)
	var seen int
	w := WrapStage("aggregate", func(p pipeline.Processor[decode.Event, aggregate.Window]) pipeline.Processor[decode.Event, aggregate.Window] {
		return countingAgg{Aggregator: p.(*aggregate.Aggregator), n: &seen}
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
	*aggregate.Aggregator
	n *int
}

func (c countingAgg) Process(in []decode.Event, out []aggregate.Window) []aggregate.Window {
	*c.n += len(in)
	return c.Aggregator.Process(in, out)
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

// TestFailingServiceStopsDaemon: a service that fails stops the running
// pipeline at once, and the daemon returns the service's error by name.
func TestFailingServiceStopsDaemon(t *testing.T) {
	c, err := Build(untilCancelled(), ChainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc := socketServices(t, c)
	boom := errors.New("boom")
	svc.Go("failing service", func(ctx context.Context) error {
		time.Sleep(50 * time.Millisecond)
		return boom
	})
	done := make(chan error, 1)
	go func() { done <- svc.Run(context.Background(), c.Pipeline.Run) }()
	select {
	case err := <-done:
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "failing service: boom") {
			t.Fatalf("daemon returned %v, want the service's error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a failed service did not stop the daemon")
	}
}

// TestPipelineEndStopsServices: when the input ends, the services (here
// the real control socket) stop and nothing is reported.
func TestPipelineEndStopsServices(t *testing.T) {
	c, err := Build(records(decodetest.Mixed(100, 1, 1e9, 10_000)), ChainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc := socketServices(t, c)
	done := make(chan error, 1)
	go func() { done <- svc.Run(context.Background(), c.Pipeline.Run) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("services kept the daemon up after the input ended")
	}
}

// socketServices are the services of a replay daemon serving the real
// control socket.
func socketServices(t *testing.T, c *Chain) *Services {
	t.Helper()
	cfg := config.Default()
	cfg.Daemon.SocketPath = filepath.Join(t.TempDir(), "ainka.sock")
	svc, err := NewServices(NewController(c, "replay", true, nil, nil), cfg, nil, discard(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestFailingServiceStopsReplay: a replay daemon holding its control
// socket open (it would serve until SIGTERM) stops as soon as a service
// fails, and returns that service's error.
func TestFailingServiceStopsReplay(t *testing.T) {
	cfg := config.Default()
	cfg.Policy.PolicyFile, cfg.ML.ModelPath = "", ""
	cfg.Daemon.SocketPath = filepath.Join(t.TempDir(), "ainka.sock")
	var stderr strings.Builder
	boom := errors.New("boom")
	o := Options{Config: cfg, Stdout: io.Discard, Stderr: &stderr, Extend: func(c *Chain, s *Services) error {
		s.Go("failing service", func(ctx context.Context) error {
			// Fail once the input has been replayed: the daemon is
			// then only holding.
			for c.Decoder.Decoded() == 0 || c.Pipeline.Stats()[1].QueueLen > 0 {
				time.Sleep(10 * time.Millisecond)
			}
			return boom
		})
		return nil
	}}
	done := make(chan error, 1)
	go func() {
		done <- Replay(context.Background(), o, ReplayOptions{Path: "../testdata/traces/cpu.trace", Repeat: 1, Hold: true})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "failing service: boom") {
			t.Fatalf("replay returned %v, want the service's error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a failed service did not stop the holding replay")
	}
}

// TestFailedStartReleasesSocket: when a step after binding the control
// socket fails (an Extend hook, a bad metrics address), the daemon returns
// that error and leaves no socket file behind.
func TestFailedStartReleasesSocket(t *testing.T) {
	hookErr := errors.New("hook failed")
	for name, tc := range map[string]struct {
		o    Options
		want string
	}{
		"extend":       {Options{Extend: func(*Chain, *Services) error { return hookErr }}, "hook failed"},
		"metrics addr": {Options{MetricsAddr: "nonsense"}, `bad --metrics-addr "nonsense"`},
	} {
		cfg := config.Default()
		cfg.Policy.PolicyFile, cfg.ML.ModelPath = "", ""
		cfg.Daemon.SocketPath = filepath.Join(t.TempDir(), "ainka.sock")
		o := tc.o
		o.Config, o.Stdout, o.Stderr = cfg, io.Discard, io.Discard
		err := Replay(context.Background(), o, ReplayOptions{Path: "../testdata/traces/idle.trace", Repeat: 1})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
		if _, statErr := os.Lstat(cfg.Daemon.SocketPath); statErr == nil {
			t.Errorf("%s: control socket left behind after a failed start", name)
		}
	}
}
