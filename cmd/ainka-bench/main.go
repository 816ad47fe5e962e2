// Command ainka-bench is AINKA's effectiveness suite: real workloads on
// this host, each under the arms untuned, tuned, ainka, ainka+policies
// and the oracle (the best static value of the scenario's knob),
// repeated and interleaved, reported as a table, JSON and PNG plots.
// See docs/bench.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ainka/ainka/bench"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1 // a verdict failed, a run failed, or the host could not be restored
	exitUsage       = 2 // unknown scenario or arm, bad flag
	exitEnvironment = 3 // a tool is missing, not root
	exitInterrupted = 130
)

const synopsis = "ainka-bench [--replot RESULTS.json] [--quick] [--scenario S,...] [--arm A,...] [--oracle V,...] [--repeats N] [--duration D] [--out DIR] [--json FILE] [--work-dir DIR] [--ainka PATH] [--ainka-config FILE] [--policies FILE] [--no-plots] [--list]"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "internal" {
		os.Exit(bench.Helper(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type flags struct {
	quick, noPlots, list            bool
	scenarios, arms, oracle         string
	repeats                         int
	duration                        time.Duration
	out, jsonPath, workDir          string
	ainkaBin, ainkaConfig, policies string
	replot                          string
}

func parse(args []string, stderr io.Writer) (*flags, error) {
	var f flags
	fs := flag.NewFlagSet("ainka-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage:", synopsis); fs.PrintDefaults() }
	fs.BoolVar(&f.quick, "quick", false, "every scenario once, short runs, the oracle's quick values (CI)")
	fs.StringVar(&f.scenarios, "scenario", "", "comma-separated scenarios (default: all; --list names them)")
	fs.StringVar(&f.arms, "arm", "", "comma-separated arms: "+strings.Join(bench.Arms, ", ")+" (default: all)")
	fs.StringVar(&f.oracle, "oracle", "", "comma-separated knob values the oracle arm runs (default: all of each scenario's; --list shows them)")
	fs.IntVar(&f.repeats, "repeats", 5, "runs of each scenario × arm, interleaved (--quick: 1)")
	fs.DurationVar(&f.duration, "duration", 0, "workload length per run (default 30s, --quick 8s; at most 60s)")
	fs.StringVar(&f.out, "out", "bench-out", "directory for results.json, plots and daemon logs")
	fs.StringVar(&f.jsonPath, "json", "", "also write the report (every run's raw figures) to this file")
	fs.StringVar(&f.workDir, "work-dir", "/var/tmp/ainka-bench", "scratch files on the real disk (loop device backing, writeback files)")
	fs.StringVar(&f.ainkaBin, "ainka", "", "the ainka binary (default: next to this one, else in PATH)")
	fs.StringVar(&f.ainkaConfig, "ainka-config", "packaging/config.toml", "configuration of the ainka arms (default: the installed service's; \"\": none, the built-in defaults)")
	fs.StringVar(&f.policies, "policies", "policies/default.toml", "policy file of the ainka+policies arm")
	fs.BoolVar(&f.noPlots, "no-plots", false, "do not draw PNG plots")
	fs.BoolVar(&f.list, "list", false, "list the scenarios and exit")
	fs.StringVar(&f.replot, "replot", "", "read this results.json, print its table and draw its plots into --out; run nothing")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (%s)", fs.Arg(0), synopsis)
	}
	if f.duration < 0 || f.duration > time.Minute {
		return nil, fmt.Errorf("--duration %s: must be in 0..60s", f.duration)
	}
	if f.repeats < 1 {
		return nil, fmt.Errorf("--repeats %d: repeats must be at least 1", f.repeats)
	}
	if f.quick && !explicit(fs, "repeats") {
		f.repeats = 1
	}
	return &f, f.absolute()
}

// absolute makes every path flag absolute: the daemons of the ainka arms
// get them in their configuration, which takes absolute paths only, and
// run in directories of their own.
func (f *flags) absolute() error {
	for _, p := range []*string{&f.out, &f.jsonPath, &f.workDir, &f.ainkaBin, &f.ainkaConfig, &f.policies} {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return fmt.Errorf("path %q: %w", *p, err)
		}
		*p = abs
	}
	return nil
}

func explicit(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func run(args []string, stdout, stderr io.Writer) int {
	f, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "ainka-bench:", err)
		return exitUsage
	}
	if f.list {
		for _, s := range bench.Scenarios() {
			fmt.Fprintf(stdout, "%-16s %s\n%-16s primary: %s (%s, lower is better: %v); tuned profile %s; oracle knob %s %v\n",
				s.Name, s.Summary, "", s.Primary.Name, s.Primary.Unit, s.Primary.LowerIsBetter, s.TunedProfile, s.Knob.Name, s.Knob.Values)
		}
		return exitOK
	}
	if f.replot != "" {
		rep, err := bench.LoadReport(f.replot)
		if err != nil {
			fmt.Fprintln(stderr, "ainka-bench: --replot:", err)
			return exitUsage
		}
		return finish(rep, nil, f, stdout, stderr)
	}
	opt, err := options(f, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "ainka-bench:", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.Execute(ctx, opt)
	return finish(rep, err, f, stdout, stderr)
}

func options(f *flags, stderr io.Writer) (bench.Options, error) {
	self, err := os.Executable()
	if err != nil {
		return bench.Options{}, err
	}
	opt := bench.Options{Scenarios: split(f.scenarios), Arms: split(f.arms), Repeats: f.repeats, Duration: f.duration,
		Quick: f.quick, OracleValues: split(f.oracle), OutDir: f.out, WorkDir: f.workDir, AinkaConfig: f.ainkaConfig, Self: self, Log: stderr}
	opt.AinkaBin = f.ainkaBin
	if opt.AinkaBin == "" {
		opt.AinkaBin = findAinka(self)
	}
	if f.policies != "" {
		if opt.Policies, err = filepath.Abs(f.policies); err != nil {
			return opt, err
		}
	}
	if opt.AinkaConfig != "" {
		if opt.AinkaConfig, err = filepath.Abs(opt.AinkaConfig); err != nil {
			return opt, err
		}
	}
	return opt, nil
}

// findAinka prefers the ainka built beside this binary (make build puts
// both in bin/), then PATH.
func findAinka(self string) string {
	sibling := filepath.Join(filepath.Dir(self), "ainka")
	if st, err := os.Stat(sibling); err == nil && st.Mode().IsRegular() {
		return sibling
	}
	if p, err := exec.LookPath("ainka"); err == nil {
		return p
	}
	return "ainka"
}

func split(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// finish prints the table and failures, writes the plots and the --json
// copy, and picks the exit code.
func finish(rep *bench.Report, err error, f *flags, stdout, stderr io.Writer) int {
	if rep == nil {
		fmt.Fprintln(stderr, "ainka-bench:", err)
		switch {
		case errors.Is(err, bench.ErrUnknown):
			return exitUsage
		case errors.Is(err, bench.ErrMissingTool), errors.Is(err, bench.ErrNotRoot):
			return exitEnvironment
		}
		return exitFailed
	}
	rep.WriteTable(stdout)
	rep.WriteTimeToBest(stdout)
	if !f.noPlots {
		if perr := bench.Plot(rep, f.out); perr != nil {
			fmt.Fprintln(stderr, "ainka-bench: plots:", perr)
		}
	}
	if f.jsonPath != "" {
		if jerr := rep.WriteJSON(f.jsonPath); jerr != nil {
			fmt.Fprintln(stderr, "ainka-bench:", jerr)
			return exitFailed
		}
	}
	for _, m := range rep.Inconclusive {
		fmt.Fprintln(stdout, "INCONCLUSIVE:", m)
	}
	for _, m := range rep.Failures {
		fmt.Fprintln(stdout, "FAIL:", m)
	}
	if f.replot == "" {
		fmt.Fprintf(stdout, "results: %s\n", filepath.Join(f.out, "results.json"))
	}
	switch {
	case rep.Interrupted:
		fmt.Fprintln(stderr, "ainka-bench:", err)
		return exitInterrupted
	case err != nil:
		fmt.Fprintln(stderr, "ainka-bench:", err)
		return exitFailed
	case len(rep.Failures) > 0:
		return exitFailed
	}
	return exitOK
}
