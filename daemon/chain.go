package daemon

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"log/slog"
	"path/filepath"
	"slices"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/internal/tcpcc"
	"github.com/ainka/ainka/kmod/genl"
	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/plugins"
	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/settings"
	"github.com/ainka/ainka/stages/actuate"
	"github.com/ainka/ainka/stages/aggregate"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decide/action"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/stages/tune"
	"github.com/ainka/ainka/trace"
	"github.com/ainka/ainka/view"
)

// StageNames are the chain's stages in order: the names --tap accepts.
// They are read off join, so a stage added there is named here too.
var StageNames = stageNames()

// stageNames joins a chain of unbuilt stages into a pipeline that never
// runs, only to read the names off it.
func stageNames() []string {
	c := &Chain{Pipeline: pipeline.New(pipeline.Options{QueueLen: 1})}
	if err := c.join(nil, nil); err != nil {
		panic("daemon: " + err.Error())
	}
	return c.Pipeline.Stages()
}

// Chain is the built pipeline and the stages the daemon talks to.
type Chain struct {
	Pipeline   *pipeline.Pipeline
	Decoder    *decode.Stage
	Aggregator *aggregate.Stage
	Predict    *predict.Stage
	Tune       *tune.Stage
	Decide     *decide.Stage
	Actuate    *actuate.Stage
	// View sees what the chain does, for the terminal view and
	// `ainka-cli top` (GET /v1/snapshot).
	View *view.Recorder
	// ProbeKinds are the probe plugin kinds decode and aggregate follow
	// (a live run's SIGHUP may change them).
	ProbeKinds *spec.Registry
	// Plugins are the logic plugins in the predict and tune stages; nil
	// without a configuration.
	Plugins *plugins.Set
	// Features is the features stage (probe plugin kinds' features).
	Features *features.Stage
	// ProbeRefused are the probe plugins refused at the start
	// (ChainOptions.ProbeRefused).
	ProbeRefused []control.Plugin

	log *slog.Logger // ChainOptions.Logger
	// probeStatus lists a live run's probe plugins (set by NewController)
	// for /metrics.
	probeStatus atomic.Pointer[func() []control.Plugin]
}

// ChainOptions say how to build the chain.
type ChainOptions struct {
	// Settings are the resolved timing and capture settings.
	Settings settings.Settings
	// Config is the daemon's configuration; nil: built-in defaults.
	Config *config.Config
	// Live lets actuate write (unless the configuration says dry_run) and
	// decide poll its policy file. A replay decides exactly as the live
	// run did but never changes this host.
	Live bool
	// Kernel is the kernel module's client; nil: not loaded.
	Kernel genl.Client
	// PolicyFile overrides [policy] policy_file when set.
	PolicyFile string
	// Tuners overrides every tuner's mode (off, advise, act) when set.
	Tuners string
	// Logger gets decide's and actuate's logs; nil: none.
	Logger *slog.Logger
	// QueueLen is the pipeline's queue length in batches (0: its default).
	QueueLen int
	// RealTime is pipeline.Options.RealTime: SCHED_FIFO stage threads at
	// this priority (0: none).
	RealTime int
	// Inline is pipeline.Options.Inline: every stage on the source's
	// goroutine, one thread from the ring to the write.
	Inline bool
	// MaxQueuedBytes is pipeline.Options.MaxQueuedBytes (0: no bound).
	MaxQueuedBytes int64
	// Metrics receives every stage's metrics (nil: a new set); the
	// source and the /metrics server share it.
	Metrics *metrics.Set
	// Wrap wraps or observes stages' processors as they are joined.
	Wrap []Wrapper
	// NoView leaves out the view recorder's observers of predict, decide
	// and actuate (the baseline of the view's cost benchmark).
	NoView bool
	// Probes are the probe plugin kinds of the capture (the trace
	// header's, live: the loaded plugins'); nil: none.
	Probes []trace.ProbeKind
	// ProbeRefused are the probe plugins that did not load, for
	// `ainka-cli plugins`.
	ProbeRefused []control.Plugin
	// Adjust, when set, may change the stages' configurations after
	// they are derived and before anything is built (tests, tools).
	Adjust func(*StageConfigs)
}

// StageConfigs are the configurations of the stages after the source.
type StageConfigs struct {
	Aggregate aggregate.Config
	Predict   predict.Config
	Tune      tune.Config
	Decide    decide.Config
	Actuate   actuate.Config
}

// Build constructs every stage and then joins them behind src, as Grafana
// OBI's swarm does: a stage that cannot be built fails here, before any
// runs. To add a stage: give StageConfigs its configuration (filled in
// stageConfigs), construct it in construct and add it in join.
func Build(src pipeline.Source[[]byte], o ChainOptions) (*Chain, error) {
	c := &Chain{Pipeline: pipeline.New(pipeline.Options{QueueLen: o.QueueLen, Metrics: o.Metrics, RealTime: o.RealTime, Inline: o.Inline, MaxQueuedBytes: o.MaxQueuedBytes}),
		ProbeRefused: o.ProbeRefused, log: o.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	cfgs, err := stageConfigs(o)
	if err != nil {
		return nil, err
	}
	cfgs.Aggregate.Metrics = c.Pipeline.Metrics()
	if o.Adjust != nil {
		o.Adjust(&cfgs)
	}
	if err := c.openPlugins(o); err != nil {
		return nil, err
	}
	if err := c.construct(cfgs, o.Probes); err != nil {
		c.closePlugins()
		return nil, err
	}
	c.newView(o, cfgs.Actuate.DryRun)
	wraps := append(slices.Clip(o.Wrap), c.pluginWrappers()...)
	if !o.NoView {
		wraps = append(wraps, c.viewWrappers()...)
	}
	if err := c.join(src, append(wraps, c.registerMetrics()...)); err != nil {
		c.Actuate.Close()
		c.closePlugins()
		return nil, err
	}
	return c, nil
}

// stageConfigs derives each stage's configuration from the settings and
// the configuration: the one place they meet.
func stageConfigs(o ChainOptions) (StageConfigs, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := StageConfigs{Aggregate: aggregate.ConfigFrom(o.Settings), Predict: predictConfig(o.Config), Decide: decideConfig(o.Config, o.Live)}
	s.Predict.Window = o.Settings.IntervalOrDefault()
	s.Predict.BootOffsetNs = o.Settings.BootOffsetNs
	if o.PolicyFile != "" {
		s.Decide.PolicyFile = o.PolicyFile
	}
	s.Decide.Logger = log
	// Decisions are made in event time, so a replay decides as the live
	// run did. A replay never changes this host: its actuate stage only
	// reports what it would change; live, dry_run decides the same.
	s.Actuate = actuate.Config{DryRun: true, Kernel: o.Kernel, Logger: log}
	if o.Live && o.Config != nil && !o.Config.Daemon.DryRun {
		s.Actuate.DryRun = false
		s.Actuate.JournalPath = JournalPath(o.Config)
		// A congestion-control change reaches the connections open at
		// it too (the iterator loads at the first such change).
		s.Actuate.OpenConns = &tcpcc.Lazy{}
	}
	var err error
	s.Tune, err = tuneConfig(o.Config, o.Tuners, o.Live)
	s.Tune.Logger = log
	s.Tune.ConnsFollow = s.Actuate.OpenConns != nil
	return s, err
}

// construct builds every stage after the source; actuate comes last
// because it is the only one holding resources (its journal).
func (c *Chain) construct(s StageConfigs, probes []trace.ProbeKind) error {
	set, err := probeSet(probes)
	if err != nil {
		return err
	}
	// Behind a registry: a live run's reload may change the kinds.
	c.ProbeKinds = spec.NewRegistry(set)
	c.Decoder = decode.New(c.Pipeline.Metrics())
	c.Decoder.FollowProbes(c.ProbeKinds)
	c.Features = features.New()
	c.Features.SetProbes(set)
	s.Aggregate.ProbeKinds = c.ProbeKinds
	if c.Aggregator, err = aggregate.New(s.Aggregate); err != nil {
		return err
	}
	if c.Predict, err = predict.New(s.Predict); err != nil {
		return fmt.Errorf("build predict stage: %w", err)
	}
	s.Decide.OnLoad = chainOnLoad(c, s.Decide.OnLoad)
	if c.Decide, err = decide.New(s.Decide); err != nil {
		return fmt.Errorf("build decide stage: %w", err)
	}
	if s.Tune.Held == nil {
		s.Tune.Held = heldBy(c, !s.Actuate.DryRun)
	}
	if c.Tune, err = tune.New(s.Tune); err != nil {
		return fmt.Errorf("build tune stage: %w", err)
	}
	if err := c.Tune.LoadError(); err != nil {
		s.Tune.Logger.Warn("tuner model not usable", "err", err)
	} else if n := c.Tune.LoadNote(); n != "" {
		s.Tune.Logger.Info(n)
	}
	if c.Actuate, err = actuate.New(s.Actuate); err != nil {
		return fmt.Errorf("build actuate stage: %w", err)
	}
	c.claimPolicies()
	return nil
}

// chainOnLoad claims the knobs of policies loaded later (a reload, the
// control API), then calls next.
func chainOnLoad(c *Chain, next func()) func() {
	return func() {
		c.claimPolicies()
		if next != nil {
			next()
		}
	}
}

// claimPolicies journals the originals of the policies' knobs before any
// change of them (actuate.Stage.Claim): a condition's first write then
// waits for no fsync. A failure leaves the claim to the first change.
func (c *Chain) claimPolicies() {
	if c.Actuate == nil || c.Decide == nil { // decide.New's first load: claimed once actuate is built
		return
	}
	c.Actuate.Claim(c.Decide.Actions()) // it logs a failure
}

// join adds the source and the built stages to the pipeline: the order
// of the flow, and the names taps, wrappers and the control API use.
func (c *Chain) join(src pipeline.Source[[]byte], wraps []Wrapper) error {
	j := &joiner{p: c.Pipeline, wraps: wraps}
	raw := pipeline.AddSource(c.Pipeline, "source", src, sourceOptions()...)
	ev := addStage[[]byte, decode.Event](j, "decode", raw, c.Decoder)
	win := addStage[decode.Event, aggregate.Window](j, "aggregate", ev, c.Aggregator)
	fx := c.Features
	if fx == nil { // stageNames: never run
		fx = features.New()
	}
	vec := addStage[aggregate.Window, features.Vector](j, "features", win, fx)
	out := addStage[features.Vector, predict.Output](j, "predict", vec, c.Predict)
	tuned := addStage[predict.Output, tune.Window](j, "tune", out, c.Tune)
	dcs := addStage[tune.Window, decide.Decision](j, "decide", tuned, tune.WithDecide(c.Decide))
	addStage[decide.Decision, actuate.Result](j, "actuate", dcs, c.Actuate)
	return j.done()
}

// sourceOptions lets taps on the source show raw records.
func sourceOptions() []pipeline.Option[[]byte] {
	return []pipeline.Option[[]byte]{pipeline.Encoder(func(dst []byte, rec *[]byte) []byte {
		return decode.AppendRawJSON(dst, *rec)
	})}
}

// Drops sums what the stages and taps dropped.
func (c *Chain) Drops() (stage, tap uint64) {
	for _, s := range c.Pipeline.Stats() {
		stage += s.Dropped
		tap += s.TapDropped
	}
	return stage, tap
}

// predictConfig maps the [ml] section onto the predict stage.
func predictConfig(conf *config.Config) predict.Config {
	pcfg := predict.DefaultConfig()
	if conf == nil {
		return pcfg
	}
	pcfg.LearningRate = conf.ML.LearningRate
	pcfg.BatchSize = conf.ML.BatchSize
	pcfg.TrainingIntervalSec = float64(conf.ML.TrainingIntervalSec)
	pcfg.PredictionWindowSec = float64(conf.ML.PredictionWindowSec)
	pcfg.EnableOnlineLearning = conf.ML.EnableOnlineLearning
	pcfg.ModelPath = conf.ML.ModelPath
	return pcfg
}

// decideConfig maps the [policy] section onto the decide stage. A replay
// never polls the policy file: its decisions must depend on the trace only.
func decideConfig(conf *config.Config, live bool) decide.Config {
	if conf == nil {
		return decide.Config{UpdateInterval: -1}
	}
	dcfg := decide.Config{
		PolicyFile:             conf.Policy.PolicyFile,
		UpdateInterval:         -1,
		MaxPolicies:            conf.Policy.MaxPolicies,
		EffectivenessThreshold: conf.Policy.PolicyEffectivenessThreshold,
		EmergencyThreshold:     conf.Policy.EmergencyModeThreshold,
	}
	if live {
		dcfg.UpdateInterval = conf.Policy.UpdateInterval()
	}
	return dcfg
}

// JournalPath is where actuate journals original values; none in advice
// mode, where nothing is written.
func JournalPath(cfg *config.Config) string {
	if cfg.Daemon.DryRun {
		return ""
	}
	return filepath.Join(cfg.Daemon.WorkDir, "journal")
}

// Assemble does, in order, what must succeed before the pipeline runs: it
// checks the policy file named on the command line, opens the tap files,
// retires a stale model, merges a seed model, builds the chain behind src and attaches the
// taps (lossless in a replay, for determinism). Close the taps after the
// run; on error nothing is left open.
func Assemble(src pipeline.Source[[]byte], o ChainOptions, taps []TapSpec, stdout io.Writer) (*Chain, *Taps, error) {
	if err := CheckPolicyFile(o.PolicyFile); err != nil {
		return nil, nil, err
	}
	t, err := OpenTaps(taps, stdout)
	if err != nil {
		return nil, nil, err
	}
	t.log = o.Logger
	if err := RetireModel(o.Config, o.Logger); err != nil {
		t.Close()
		return nil, nil, err
	}
	SeedModel(o.Config, o.Logger)
	c, err := Build(src, o)
	if err != nil {
		t.Close()
		return nil, nil, err
	}
	if err := t.Attach(c.Pipeline, !o.Live); err != nil {
		c.Actuate.Close()
		t.Close()
		return nil, nil, err
	}
	return c, t, nil
}

// tuneConfig maps [tuners] (and an override of every tuner's mode) onto
// the tune stage. A replay keeps no model file: what it learns must not
// change the next live run.
func tuneConfig(conf *config.Config, override string, live bool) (tune.Config, error) {
	t := config.Default().Tuners
	if conf != nil {
		t = conf.Tuners
	}
	if override != "" {
		t.CPU, t.Readahead, t.Memory, t.Writeback, t.TCP = override, override, override, override, override
	}
	var tc tune.Config
	var err error
	if tc.CPU, err = tune.ParseMode(t.CPU); err != nil {
		return tc, Usagef("tuners: cpu: %v", err)
	}
	if tc.Readahead, err = tune.ParseMode(t.Readahead); err != nil {
		return tc, Usagef("tuners: readahead: %v", err)
	}
	if tc.Memory, err = tune.ParseMode(t.Memory); err != nil {
		return tc, Usagef("tuners: memory: %v", err)
	}
	if tc.Writeback, err = tune.ParseMode(t.Writeback); err != nil {
		return tc, Usagef("tuners: writeback: %v", err)
	}
	if tc.TCP, err = tune.ParseMode(t.TCP); err != nil {
		return tc, Usagef("tuners: tcp: %v", err)
	}
	tc.EffectWindow = time.Duration(t.EffectWindowMS) * time.Millisecond
	tc.HarmPct, tc.MaxSteps = t.HarmPct, t.MaxSteps
	if live {
		tc.ModelPath = t.ModelPath
		tc.Cgroup1Memory = actuate.FindCgroup1("/proc/self/mountinfo", "memory")
		tc.Cgroup2, _ = actuate.FindCgroup2("/proc/self/mountinfo") // "": the default
		tc.Tunable = tune.ProcTunable("/proc", os.Getpid())
		tc.Streamer = tune.ProcStreamer("/proc")
	}
	return tc, nil
}

// heldBy leaves to operators' policies the knobs they write: a tuner does
// not touch a knob a loaded policy's action names, by key ("nice:pid:42")
// or, when actuate writes (resolve), by the knobs both actions resolve to
// now: "nice name:stress-ng" holds the nice of pid 42 when pid 42 is
// stress-ng. A replay compares keys only: it never reads the host.
func heldBy(c *Chain, resolve bool) func(action.Action) bool {
	return func(a action.Action) bool {
		var mine []string
		if resolve {
			mine, _ = c.Actuate.Knobs(a)
		}
		for _, ps := range c.Decide.Policies() {
			if ps.Knob == a.Key() {
				return true
			}
			pa, err := action.Parse(ps.Action)
			if len(mine) == 0 || err != nil || pa.Kind != a.Kind {
				continue
			}
			if theirs, err := c.Actuate.Knobs(pa); err == nil && slices.ContainsFunc(theirs, func(k string) bool { return slices.Contains(mine, k) }) {
				return true
			}
		}
		return false
	}
}
