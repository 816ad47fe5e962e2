// Package pluginctl is `ainka plugin`: list the plugins of the configured
// directories, describe one, validate a plugin file before installing it.
// Exit codes follow ainka's: 0 ok, 1 a plugin is bad, 2 bad usage or
// configuration.
package pluginctl

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/plugins"
	"github.com/ainka/ainka/plugins/plugintable"
	"github.com/ainka/ainka/plugins/wasm"
	"github.com/ainka/ainka/stages/features"
)

// Synopsis is the command's usage line.
const Synopsis = "ainka plugin list [--config FILE] [--json] | info [--json] PATH | validate PATH (a .wasm file or a probe plugin's directory)"

// Exit codes, as ainka's.
const (
	exitOK, exitBad, exitUsage = 0, 1, 2
)

// errUsage marks a usage error (exit 2).
var errUsage = errors.New("usage")

// Main runs `ainka plugin ARGS` and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "ainka plugin: want a subcommand: %s\n", Synopsis)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintf(stdout, "usage: %s\n", Synopsis)
		return exitOK
	case "list":
		err = list(args[1:], stdout)
	case "info":
		err = info(args[1:], stdout)
	case "validate":
		err = withPath(args[1:], func(p string) error { return validate(p, stdout) })
	default:
		err = fmt.Errorf("%w: unknown subcommand %q (%s)", errUsage, args[0], Synopsis)
	}
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "ainka plugin %s: %v\n", args[0], err)
	if errors.Is(err, errUsage) {
		return exitUsage
	}
	return exitBad
}

func withPath(args []string, f func(string) error) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("%w: want one plugin file (%s)", errUsage, Synopsis)
	}
	return f(args[0])
}

// list loads every logic plugin of the configured directories, as the
// daemon would, checks every probe plugin (without loading it into the
// kernel: that is the daemon's, as root) and prints one line each.
func list(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("plugin list", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("config", config.DefaultPath, "configuration file")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return fmt.Errorf("%w: %s", errUsage, Synopsis)
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	set, err := plugins.Open(context.Background(), plugins.Options{Dirs: cfg.Plugins.PluginDirs})
	if err != nil {
		return err
	}
	defer set.Close()
	st := append(set.Status(), probeStatuses(cfg.Plugins.PluginDirs)...)
	if *asJSON {
		return printJSON(w, st)
	}
	if len(st) == 0 {
		_, err := fmt.Fprintf(w, "(no plugins in %s)\n", strings.Join(cfg.Plugins.PluginDirs, ", "))
		return err
	}
	return plugintable.Write(w, st, false)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// info prints what a plugin says about itself.
func info(args []string, w io.Writer) error {
	asJSON := len(args) > 0 && args[0] == "--json"
	if asJSON {
		args = args[1:]
	}
	return withPath(args, func(path string) error {
		if isProbe(path) {
			return probeInfo(path, w, asJSON)
		}
		m, err := wasm.Load(context.Background(), path, wasm.DefaultLimits())
		if err != nil {
			return err
		}
		defer m.Close()
		if asJSON {
			return printJSON(w, plugins.ModuleStatus(m))
		}
		printInfo(w, m)
		return nil
	})
}

func printInfo(w io.Writer, m *wasm.Module) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "name\t%s\nversion\t%s\nkind\t%s\nabi\t%d\n", m.Info.Name, m.Info.Version, m.Info.Kind, m.Info.ABI)
	fmt.Fprintf(tw, "path\t%s\nsha256\t%s\n", m.Path, m.SHA256)
	if m.Info.Description != "" {
		fmt.Fprintf(tw, "description\t%s\n", m.Info.Description)
	}
	fmt.Fprintf(tw, "features\t%s\n", strings.Join(m.Info.Features, ", "))
	if len(m.Info.Scores) > 0 {
		fmt.Fprintf(tw, "scores\t%s\n", strings.Join(m.Info.Scores, ", "))
	}
	lim := wasm.DefaultLimits()
	fmt.Fprintf(tw, "limits\t%d MiB of memory, %v of CPU and %v per call\n", lim.MemoryPages/16, lim.CallCPU, lim.CallTimeout)
	tw.Flush()
}

// validate loads a plugin and calls it on three windows (nothing known,
// zeros, ordinary values) as the daemon would, so that a plugin that traps,
// loops or returns garbage on its first windows is caught before it is
// installed.
func validate(path string, w io.Writer) error {
	if isProbe(path) {
		return validateProbe(path, w)
	}
	m, err := wasm.Load(context.Background(), path, wasm.DefaultLimits())
	if err != nil {
		return err
	}
	defer m.Close()
	scores := make([]float64, len(m.Info.Scores))
	for i, fill := range []float64{math.NaN(), 0, 50} {
		v := features.Vector{StartNs: uint64(i) * 100e6, EndNs: uint64(i+1) * 100e6}
		for k := range v.Values {
			v.Values[k] = fill
		}
		if m.Info.Kind == wasm.Detector {
			err = m.Detect(&v, scores)
		} else {
			_, err = m.Tune(&v, nil)
		}
		if err != nil {
			return fmt.Errorf("window %d (every feature %v): %w", i+1, fill, err)
		}
	}
	st := m.Stats()
	fmt.Fprintf(w, "ok: %s %s, a %s (ABI %d), %d calls, %v of CPU\n", m.Info.Name, m.Info.Version, m.Info.Kind, m.Info.ABI, st.Calls, st.CPU)
	return nil
}
