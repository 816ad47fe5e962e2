package tune_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/daemon"
	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/settings"
	"github.com/ainka/ainka/stages/actuate"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/source"
	"github.com/ainka/ainka/stages/tune"
)

// The live tests run the whole daemon chain on this host's eBPF events
// with tuners in act mode, against real workloads the tuners are not
// told about, and check what the kernel knobs did (sysfs, /proc) and
// what actuate wrote. They need root and take the CPU lock.

func mono() uint64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}

// observer hands each batch a stage outputs to f.
type observer[In, Out any] struct {
	p pipeline.Processor[In, Out]
	f func([]Out)
}

func (o observer[In, Out]) Process(in []In, out []Out) []Out {
	n := len(out)
	out = o.p.Process(in, out)
	o.f(out[n:])
	return out
}

// results keeps what actuate did, as it did it.
type results struct {
	mu  sync.Mutex
	res []actuate.Result
}

func (c *results) add(rs []actuate.Result) {
	c.mu.Lock()
	c.res = append(c.res, rs...)
	c.mu.Unlock()
}

// since returns the results from index i on.
func (c *results) since(i int) []actuate.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]actuate.Result(nil), c.res[min(i, len(c.res)):]...)
}

func (c *results) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.res)
}

// liveTuner is a running daemon chain.
type liveTuner struct {
	chain  *daemon.Chain
	res    *results
	cancel context.CancelFunc
	done   chan error
}

// startLive runs the live chain (100 ms windows, the given event kinds)
// with tc as the tune stage's configuration; the model file and the
// journal live in work. self: the test process's own events are seen
// too (a workload run in a goroutine of the test).
func startLive(t *testing.T, work string, kinds []record.Kind, self bool, tc tune.Config) *liveTuner {
	return startLiveWith(t, work, kinds, self, tc, "")
}

// startLiveWith is startLive with an operator's policy file.
func startLiveWith(t *testing.T, work string, kinds []record.Kind, self bool, tc tune.Config, policyFile string) *liveTuner {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("AINKA_TUNE_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	set := metrics.NewSet()
	const interval = 100 * time.Millisecond
	cfg := source.Config{HostInterval: interval, Metrics: set}
	cfg.Kinds, cfg.IncludeSelf = kinds, self
	live, err := source.NewLive(cfg)
	if err != nil {
		t.Fatalf("live source: %v", err)
	}
	res := &results{}
	tc.ModelPath, tc.Logger = filepath.Join(work, "tuners.model"), logger
	c, err := daemon.Build(live, daemon.ChainOptions{
		Settings: settings.Settings{Interval: interval, Kinds: source.TraceKinds(live.KernelPolicy(), live.HostSamples())},
		Metrics:  set,
		Live:     true,
		Adjust: func(s *daemon.StageConfigs) {
			held := s.Tune.Held
			s.Tune = tc
			s.Tune.Held = held
			s.Decide = decide.Config{PolicyFile: policyFile, EvalInterval: -1, LearningDuration: -1, Logger: logger}
			// Writes of one knob at most every 200 ms: the tests' effect
			// windows are shorter than the installed service's.
			s.Actuate = actuate.Config{JournalPath: filepath.Join(work, "journal"), KnobInterval: 200 * time.Millisecond, MaxWritesPerS: 100, Logger: logger}
		},
		Wrap: []daemon.Wrapper{
			daemon.WrapStage("actuate", func(p pipeline.Processor[decide.Decision, actuate.Result]) pipeline.Processor[decide.Decision, actuate.Result] {
				return observer[decide.Decision, actuate.Result]{p, res.add}
			}),
		},
	})
	if err != nil {
		live.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &liveTuner{chain: c, res: res, cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := c.Pipeline.Run(ctx)
		live.Close()
		l.done <- err
	}()
	t.Cleanup(func() { l.stop(t) })
	return l
}

// stop ends the chain once: actuate restores every knob it changed.
func (l *liveTuner) stop(t *testing.T) {
	if l.cancel == nil {
		return
	}
	l.cancel()
	if err := <-l.done; err != nil && !strings.Contains(err.Error(), "context canceled") {
		t.Logf("pipeline: %v", err)
	}
	l.chain.Actuate.Close()
	if err := l.chain.Tune.Save(); err != nil {
		t.Errorf("save tuner model: %v", err)
	}
	l.cancel = nil
}

// tuner returns the named tuner's status.
func (l *liveTuner) tuner(name string) tune.TunerStatus {
	for _, ts := range l.chain.Tune.Status().Tuners {
		if ts.Name == name {
			return ts
		}
	}
	return tune.TunerStatus{}
}

// waitFor polls cond every 50 ms for at most d.
func waitFor(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func logResults(t *testing.T, rs []actuate.Result) {
	t.Helper()
	for _, r := range rs {
		if r.Kind == decide.Effect || r.Status == actuate.Applied {
			t.Logf("  %s %s %s %s -> %s: %s", r.Kind, r.Status, r.Knob, r.Old, r.New, r.Why)
		}
	}
}
