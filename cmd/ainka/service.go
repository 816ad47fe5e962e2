package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/daemon"
)

// daemonFlags make run and replay a configured, controllable daemon.
type daemonFlags struct {
	configPath  string
	socket      string
	logLevel    string
	printConfig bool
	noAct       bool
}

func (f *daemonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.configPath, "config", "", "configuration `FILE` (run: default "+config.DefaultPath+" when present; replay: built-in defaults)")
	fs.StringVar(&f.socket, "socket", "", "serve the control API on this unix socket `PATH` (run: default from the configuration; replay: only when given); also $AINKA_SOCKET")
	fs.StringVar(&f.logLevel, "log-level", "", "log `LEVEL`: debug, info, warn or error (default from the configuration)")
	fs.BoolVar(&f.printConfig, "dry-run", false, "validate the configuration, print the effective configuration and exit")
	fs.BoolVar(&f.noAct, "no-act", false, "advice only: decide and report every change but make none (the configuration's dry_run)")
}

// load reads the configuration and lays the command-line overrides on it.
// A replay without --config starts from the built-in defaults, never from
// the host's installed file: a replay must not load this host's model or
// policies unless asked to.
func (f *daemonFlags) load(live bool) (*config.Config, error) {
	var cfg *config.Config
	if live || f.configPath != "" {
		c, err := config.Load(f.configPath)
		if err != nil {
			return nil, daemon.UsageError{Err: err}
		}
		cfg = c
	} else {
		cfg = config.Default()
		cfg.Policy.PolicyFile = ""
		cfg.ML.ModelPath = ""
		cfg.Daemon.SocketPath = "" // a replay serves no socket unless asked
	}
	if f.logLevel != "" {
		if _, err := config.ParseLogLevel(f.logLevel); err != nil {
			return nil, daemon.Usagef("--log-level: %v", err)
		}
		cfg.Daemon.LogLevel = f.logLevel
	}
	if f.noAct {
		cfg.Daemon.DryRun = true
	}
	switch {
	case f.socket != "":
		cfg.Daemon.SocketPath = f.socket
	case os.Getenv("AINKA_SOCKET") != "":
		cfg.Daemon.SocketPath = os.Getenv("AINKA_SOCKET")
	}
	return cfg, nil
}

// printEffectiveConfig is --dry-run: validate the configuration and print
// it as it will be used; any problem is a usage error (exit 2).
func printEffectiveConfig(cfg *config.Config, given map[string]bool, w io.Writer) error {
	if err := validate(cfg, given); err != nil {
		return err
	}
	if err := cfg.WriteTOML(w); err != nil {
		return daemon.UsageError{Err: err}
	}
	return nil
}

// validate checks the configuration with the flags applied; a problem is a
// usage error (exit 2), the same for a run and its --dry-run, naming the
// flag that set a bad value.
func validate(cfg *config.Config, given map[string]bool) error {
	err := cfg.Validate()
	if err == nil {
		return nil
	}
	for flag, key := range map[string]string{"interval": "collection_interval_ms", "ring-mb": "ring_buffer_mb"} {
		if given[flag] && strings.Contains(err.Error(), key) {
			err = fmt.Errorf("--%s sets %w", flag, err)
		}
	}
	return daemon.UsageError{Err: err}
}

// explicitFlags returns the names of the flags given on the command line.
func explicitFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// applyTelemetry fills the capture flags that were not given from the
// [telemetry] section, and records the given ones in the configuration so
// that --dry-run prints what will really be used.
func applyTelemetry(cfg *config.Config, lf *liveFlags, given map[string]bool) {
	t := &cfg.Telemetry
	if given["interval"] {
		t.CollectionIntervalMS = int(lf.interval.Milliseconds())
	} else {
		lf.interval = t.CollectionInterval()
	}
	if given["ring-mb"] {
		t.RingBufferMB = lf.ringMB
	} else {
		lf.ringMB = t.RingBufferMB
	}
	if given["kinds"] {
		t.EventKinds = strings.Split(lf.kinds, ",")
	} else {
		// host samples (PSI, MemAvailable) are not an eBPF kind: always on.
		lf.kinds = strings.Join(append(append([]string(nil), t.EventKinds...), "host_sample"), ",")
	}
	if !given["sample"] {
		for name, n := range t.Sampling {
			if k, err := record.ParseKind(name); err == nil {
				lf.sample[k] = strconv.Itoa(n)
			}
		}
	}
}
