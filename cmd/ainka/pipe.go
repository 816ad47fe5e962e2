package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/kmod/genl"
	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/stages/actuate"
	"github.com/ainka/ainka/stages/aggregate"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/trace"
)

// stageNames are the pipeline's stages in order: the names --tap accepts.
var stageNames = []string{"source", "decode", "aggregate", "features", "predict", "decide", "actuate"}

// tapSpec is one --tap STAGE or --tap STAGE=PATH.
type tapSpec struct {
	stage string
	path  string // "" = stdout
}

// tapFlags collects repeatable --tap values and checks the stage names as
// they are parsed, so that a typo fails before anything starts.
type tapFlags []tapSpec

func (t *tapFlags) String() string { return "" }

func (t *tapFlags) Set(v string) error {
	stage, path, _ := strings.Cut(v, "=")
	known := false
	for _, n := range stageNames {
		known = known || n == stage
	}
	if !known {
		return fmt.Errorf("unknown stage %q (stages: %s)", stage, strings.Join(stageNames, ", "))
	}
	if strings.Contains(v, "=") && path == "" {
		return fmt.Errorf("empty path in %q", v)
	}
	*t = append(*t, tapSpec{stage: stage, path: path})
	return nil
}

// pipeFlags are the flags run and replay share.
type pipeFlags struct {
	taps        tapFlags
	metricsAddr string
	duration    time.Duration
	policyFile  string
	hold        bool
}

func (f *pipeFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.taps, "tap", "write `STAGE`'s output as JSON lines to stdout, or STAGE=PATH to a file; repeatable ("+strings.Join(stageNames, ", ")+")")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://`ADDR`/metrics (e.g. 127.0.0.1:9464)")
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long (0 = until the input ends or SIGINT)")
	fs.StringVar(&f.policyFile, "policy", "", "policy `FILE` for the decide stage (default: the configuration's policy_file; replay: none)")
	fs.BoolVar(&f.hold, "hold", false, "replay: after the input ends, keep serving the control socket until SIGINT/SIGTERM or --duration")
}

// withDuration cancels ctx after d (0: never). It cancels rather than
// setting a deadline because a cancelled source is a normal end, while a
// deadline would read as the source failing.
func withDuration(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	if d > 0 {
		t := time.AfterFunc(d, cancel)
		return ctx, func() { t.Stop(); cancel() }
	}
	return ctx, cancel
}

// parseArgs parses flags that may come before or after the positional
// arguments (ainka replay FILE --speed 2), returning the positionals.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// printHelp writes a command's usage and flags.
func printHelp(w io.Writer, fs *flag.FlagSet, synopsis string) {
	fmt.Fprintf(w, "usage: %s\n\nflags:\n", synopsis)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// chain is the built pipeline and the stages that report counters.
type chain struct {
	p     *pipeline.Pipeline
	set   *metrics.Set
	dec   *decode.Decoder
	agg   *aggregate.Aggregator
	pred  *predict.Stage
	dcd   *decide.Stage
	act   *actuate.Stage
	files []*os.File
}

// chainConfig says how to build the stages after the source.
type chainConfig struct {
	agg      aggregate.Config
	lossless bool // taps wait instead of dropping (replay: determinism)
	taps     []tapSpec
	stdout   io.Writer
	// policyFile feeds decide; logger gets decide's and actuate's logs.
	policyFile string
	logger     *slog.Logger
	// noKernel keeps actuate from dialling the kernel module (replays).
	noKernel bool
	// conf is the daemon's configuration (nil: built-in defaults); live
	// lets actuate write (unless conf says dry_run); kernel is the module
	// client, nil when it is not loaded.
	conf   *config.Config
	live   bool
	kernel genl.Client
	// bootOffsetNs is wall clock minus event time (from the trace header
	// or the live host): predict's time-of-week baselines need it.
	bootOffsetNs int64
}

// aggConfigFromHeader sets the window and the kinds' capture from a trace
// header (or the live policy written as one).
func aggConfigFromHeader(h trace.Header) aggregate.Config {
	var c aggregate.Config
	c.IntervalMs = h.CollectionIntervalMs
	for _, k := range h.Kinds {
		if k.Kind == 0 || int(k.Kind) >= int(decode.NumKinds) {
			continue
		}
		c.Disabled[k.Kind] = !k.Enabled
		c.SampleEvery[k.Kind] = k.SampleEvery
	}
	return c
}

// buildChain adds the stages after src and the taps. Every stage is built
// before any runs; a stage that cannot be built fails here.
func buildChain(p *pipeline.Pipeline, src pipeline.Output[[]byte], cfg chainConfig) (*chain, error) {
	c := &chain{p: p, set: p.Metrics(), dec: decode.New(p.Metrics())}
	cfg.agg.Metrics = c.set
	agg, err := aggregate.New(cfg.agg)
	if err != nil {
		return nil, err
	}
	c.agg = agg
	dec := pipeline.AddStage[[]byte, decode.Event](p, "decode", src, c.dec)
	win := pipeline.AddStage[decode.Event, aggregate.Window](p, "aggregate", dec, agg)
	vec := pipeline.AddStage[aggregate.Window, features.Vector](p, "features", win, features.NewExtractor())
	pcfg := predictConfig(cfg.conf)
	pcfg.BootOffsetNs = cfg.bootOffsetNs
	if cfg.conf != nil {
		retired, err := retireStaleModel(pcfg.ModelPath, cfg.conf.Telemetry.Retention(), time.Now())
		if err != nil {
			return nil, err
		}
		if retired && cfg.logger != nil {
			cfg.logger.Warn("saved model older than metrics_retention_hours: moved aside, learning afresh",
				"path", pcfg.ModelPath+".stale", "retention", cfg.conf.Telemetry.Retention())
		}
	}
	if cfg.agg.IntervalMs > 0 {
		pcfg.Window = time.Duration(cfg.agg.IntervalMs) * time.Millisecond
	}
	pred, err := predict.New(pcfg)
	if err != nil {
		return nil, fmt.Errorf("build predict stage: %w", err)
	}
	out := pipeline.AddStage[features.Vector, predict.Output](p, "predict", vec, pred)
	c.pred = pred
	logger := cfg.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dcfg := decideConfig(cfg.conf, cfg.live)
	if cfg.policyFile != "" {
		// decide treats a missing file as "no policies yet" (a daemon
		// waits for it); asked for on the command line, it is a mistake.
		if _, err := os.Stat(cfg.policyFile); err != nil {
			return nil, usagef("--policy: %v", err)
		}
		dcfg.PolicyFile = cfg.policyFile
	}
	dcfg.Logger = logger
	// Decisions are made in event time, so a replay decides as the live
	// run did. A replay never changes this host: its actuate stage only
	// reports what it would change; live, dry_run decides the same.
	c.dcd, err = decide.New(dcfg)
	if err != nil {
		return nil, fmt.Errorf("build decide stage: %w", err)
	}
	acfg := actuate.Config{DryRun: true, NoKernel: cfg.noKernel, Kernel: cfg.kernel, Logger: logger}
	if cfg.live && cfg.conf != nil && !cfg.conf.Daemon.DryRun {
		acfg.DryRun = false
		acfg.JournalPath = journalPath(cfg.conf)
	}
	if acfg.Kernel == nil {
		acfg.NoKernel = true // dialled once by the daemon; nil means not loaded
	}
	c.act, err = actuate.New(acfg)
	if err != nil {
		return nil, fmt.Errorf("build actuate stage: %w", err)
	}
	dcs := pipeline.AddStage[predict.Output, decide.Decision](p, "decide", out, c.dcd)
	pipeline.AddStage[decide.Decision, actuate.Result](p, "actuate", dcs, c.act)
	for _, t := range cfg.taps {
		w := cfg.stdout
		if t.path != "" {
			f, err := os.Create(t.path)
			if err != nil {
				c.close()
				return nil, fmt.Errorf("tap %s: %w", t.stage, err)
			}
			c.files = append(c.files, f)
			w = f
		}
		if err := p.Tap(t.stage, w, pipeline.TapOptions{Lossless: cfg.lossless}); err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}

// sourceOptions lets taps on the source show raw records.
func sourceOptions() []pipeline.Option[[]byte] {
	return []pipeline.Option[[]byte]{pipeline.Encoder(func(dst []byte, rec *[]byte) []byte {
		return decode.AppendRawJSON(dst, *rec)
	})}
}

func (c *chain) close() error {
	var errs []error
	for _, f := range c.files {
		errs = append(errs, f.Close())
	}
	c.files = nil
	return errors.Join(errs...)
}

// drops sums what the stages and taps dropped.
func (c *chain) drops() (stage, tap uint64) {
	for _, s := range c.p.Stats() {
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

// retireStaleModel keeps learned history no longer than
// metrics_retention_hours: a saved model last written before that is moved
// aside (PATH.stale) and learning starts afresh, so a daemon that was off
// for days does not score today's host against a stale baseline.
func retireStaleModel(path string, retention time.Duration, now time.Time) (retired bool, err error) {
	if path == "" || retention <= 0 {
		return false, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		// Absent or unreadable: predict reports it (LoadError) and
		// learns afresh; there is nothing to retire.
		return false, nil
	}
	if now.Sub(st.ModTime()) <= retention {
		return false, nil
	}
	if err := os.Rename(path, path+".stale"); err != nil {
		return false, fmt.Errorf("retire stale model: %w", err)
	}
	return true, nil
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
