package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/ainka/ainka/daemon"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
)

func init() {
	register(command{name: "model", summary: "inspect the learned model (model info [--model-path P])", run: runModel})
}

const modelSynopsis = "ainka model info [--model-path P]"

func runModel(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "info" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintf(stdout, "usage: %s\n", modelSynopsis)
			return exitOK
		}
		return exitCode(stderr, "model", daemon.Usagef("want a subcommand: %s", modelSynopsis))
	}
	fs := flag.NewFlagSet("model info", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("model-path", predict.DefaultModelPath, "model file ([ml] model_path)")
	err := fs.Parse(args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "usage: %s\n\nflags:\n", modelSynopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return exitOK
	}
	switch {
	case err != nil:
		err = daemon.Usagef("%v", err)
	case fs.NArg() > 0:
		err = daemon.Usagef("unexpected argument %q (usage: %s)", fs.Arg(0), modelSynopsis)
	}
	if err == nil {
		err = modelInfo(*path, stdout)
	}
	return exitCode(stderr, "model info", err)
}

func modelInfo(path string, w io.Writer) error {
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
