package warm

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
)

// ErrUsage marks a bad command line (exit code 2).
var ErrUsage = errors.New("usage")

// Synopsis is `ainka model`'s usage.
const Synopsis = `ainka model info [--model-path P]
       ainka model export --out FILE [--config FILE] [--model-path P] [--tuner-model-path P]
       ainka model import FILE|URL [--config FILE] [--model-path P] [--tuner-model-path P] [--json]`

func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}

// Command runs `ainka model SUBCOMMAND ARGS`.
func Command(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("want a subcommand:\n%s", Synopsis)
	}
	fs := flag.NewFlagSet("model "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfgPath := fs.String("config", "", "configuration file whose [ml] and [tuners] model_path are used")
	pp := fs.String("model-path", "", "the predict model ([ml] model_path)")
	tp := fs.String("tuner-model-path", "", "the tuners' model ([tuners] model_path)")
	out := fs.String("out", "", "export: the bundle to write")
	asJSON := fs.Bool("json", false, "import: print the report as JSON")
	switch args[0] {
	case "info", "export", "import":
	case "-h", "--help", "help":
		fmt.Fprintf(stdout, "usage: %s\n", Synopsis)
		return nil
	default:
		return usagef("unknown subcommand %q:\n%s", args[0], Synopsis)
	}
	pos, err := parseInterleaved(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "usage: %s\n\nflags:\n", Synopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return nil
	}
	if err != nil {
		return usagef("%v", err)
	}
	p, err := paths(*cfgPath, *pp, *tp)
	if err != nil {
		return err
	}
	switch args[0] {
	case "info":
		return noArgs(pos, func() error { return info(p.Predict, stdout) })
	case "export":
		if *out == "" {
			return usagef("export needs --out FILE")
		}
		return noArgs(pos, func() error { return export(p, *out, stdout) })
	}
	if len(pos) != 1 {
		return usagef("import needs one FILE or URL (got %d arguments)", len(pos))
	}
	return importCmd(ctx, pos[0], p, *asJSON, stdout)
}

// parseInterleaved parses flags before and after positional arguments
// (`import FILE --model-path P`), which flag.Parse alone stops at.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func noArgs(pos []string, run func() error) error {
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	return run()
}

// paths: the flags, else the configuration's, else the defaults.
func paths(cfgPath, pp, tp string) (Paths, error) {
	cfg := config.Default()
	if cfgPath != "" {
		c, err := config.Load(cfgPath)
		if err != nil {
			return Paths{}, fmt.Errorf("%w: %v", ErrUsage, err)
		}
		cfg = c
	}
	p := Paths{Predict: cfg.ML.ModelPath, Tuners: cfg.Tuners.ModelPath}
	if pp != "" {
		p.Predict = pp
	}
	if tp != "" {
		p.Tuners = tp
	}
	if p.Predict == "" {
		return p, usagef("no predict model path: give --model-path or [ml] model_path")
	}
	return p, nil
}

func export(p Paths, out string, w io.Writer) error {
	host, _ := os.Hostname()
	b, err := Export(p, HostFacts(), host)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(w, "exported %s and %s to %s (%d bytes; kernel %s, %d CPUs, feature schema %s)\n",
		p.Predict, p.Tuners, out, len(b), HostFacts().Kernel, HostFacts().CPUs, Schema())
	return nil
}

func importCmd(ctx context.Context, src string, p Paths, asJSON bool, w io.Writer) error {
	b, err := Load(ctx, src)
	if err != nil {
		return err
	}
	r, err := Import(b, p, HostFacts())
	if err != nil {
		return fmt.Errorf("%s refused: %w", src, err)
	}
	if asJSON {
		return json.NewEncoder(w).Encode(r)
	}
	_, err = fmt.Fprintln(w, r.String())
	return err
}

func info(path string, w io.Writer) error {
	mi, err := predict.ReadModelInfo(path)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "path\t%s\n", mi.Path)
	fmt.Fprintf(tw, "format\tversion %d, %d bytes\n", mi.Version, mi.Size)
	fmt.Fprintf(tw, "saved\t%s\n", mi.Saved.Format(time.RFC3339))
	fmt.Fprintf(tw, "window\t%s\n", mi.Window)
	fmt.Fprintf(tw, "horizon\t%d windows (%s)\n", mi.Horizon, time.Duration(mi.Horizon)*mi.Window)
	fmt.Fprintf(tw, "processed\t%d windows\n", mi.Processed)
	fmt.Fprintf(tw, "joint model\t%d samples\n", mi.JointSamples)
	fmt.Fprintf(tw, "feature\tsamples learned\n")
	for i := features.ID(0); i < features.Count; i++ {
		fmt.Fprintf(tw, "  %s\t%d\n", i, mi.Samples[i])
	}
	return tw.Flush()
}
