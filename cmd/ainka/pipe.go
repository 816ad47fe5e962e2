package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/daemon"
)

// tapFlags collects repeatable --tap values; daemon.ParseTap checks the
// stage names as they are parsed, so that a typo fails before anything
// starts.
type tapFlags []daemon.TapSpec

func (t *tapFlags) String() string { return "" }

func (t *tapFlags) Set(v string) error {
	spec, err := daemon.ParseTap(v)
	if err != nil {
		return err
	}
	*t = append(*t, spec)
	return nil
}

// pipeFlags are the flags run and replay share.
type pipeFlags struct {
	taps                tapFlags
	metricsAddr, uiAddr string
	duration            time.Duration
	policyFile          string
	hold                bool
	tuners              string
}

func (f *pipeFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.taps, "tap", "write `STAGE`'s output as JSON lines to stdout, or STAGE=PATH to a file; repeatable ("+strings.Join(daemon.StageNames, ", ")+")")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://`ADDR`/metrics (e.g. 127.0.0.1:9464)")
	fs.StringVar(&f.uiAddr, "ui-addr", "", "serve the read-only web dashboard at http://`ADDR`/ (default: [ui] ui_addr; off; loopback only unless ui_allow_remote)")
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long (0 = until the input ends or SIGINT)")
	fs.StringVar(&f.policyFile, "policy", "", "policy `FILE` for the decide stage (default: the configuration's policy_file; replay: none)")
	fs.StringVar(&f.tuners, "tuners", "", "every tuner's `MODE`: off, advise or act (default: the configuration's [tuners]: advise)")
	fs.BoolVar(&f.hold, "hold", false, "replay: after the input ends, keep serving the control socket until SIGINT/SIGTERM or --duration")
}

// options are the daemon's options from the shared flags.
func (f *pipeFlags) options(cfg *config.Config, stdout, stderr io.Writer) daemon.Options {
	return daemon.Options{Config: cfg, PolicyFile: f.policyFile, Tuners: f.tuners, Taps: f.taps, MetricsAddr: f.metricsAddr,
		UIAddr: f.uiAddr, Duration: f.duration, Stdout: stdout, Stderr: stderr}
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
			return nil, daemon.Usagef("%v", err)
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
