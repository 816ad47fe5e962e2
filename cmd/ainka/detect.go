package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ainka/ainka/daemon"
	"github.com/ainka/ainka/stages/predict/anomaly"
	"github.com/ainka/ainka/tools/nab"
)

func init() {
	register(command{name: "detect", summary: "score a timestamp,value CSV for anomalies (NAB format)", run: runDetect})
}

const detectSynopsis = "ainka detect --input IN.csv --output OUT.csv [--detector NAME] [--params name=value,...]"

// runDetect runs one of the predict stage's detectors over a CSV series:
// input "timestamp,value", output "timestamp,value,anomaly_score", one row
// per input row in the same order ("-" is stdin or stdout). Rows with a
// missing or infinite value, or a timestamp before the previous row's, are
// scored 0 and skipped (the detector learns nothing from them); stderr
// says how many.
func runDetect(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	in := fs.String("input", "", "input CSV with header timestamp,value (- for stdin)")
	out := fs.String("output", "", "output CSV timestamp,value,anomaly_score (- for stdout)")
	det := fs.String("detector", anomaly.DefaultName, fmt.Sprintf("detector, one of %v", anomaly.Names()))
	params := fs.String("params", "", "detector parameter overrides, e.g. rest=50,alpha=0.1")
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "usage: %s\n\nflags:\n", detectSynopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return exitOK
	}
	switch {
	case err != nil:
		err = daemon.Usagef("%v", err)
	case fs.NArg() > 0:
		err = daemon.Usagef("unexpected argument %q (usage: %s)", fs.Arg(0), detectSynopsis)
	case *in == "":
		err = daemon.Usagef("--input is required (usage: %s)", detectSynopsis)
	case *out == "":
		err = daemon.Usagef("--output is required (usage: %s)", detectSynopsis)
	}
	if err == nil {
		err = detect(*in, *out, *det, *params, stdout, stderr)
	}
	return exitCode(stderr, "detect", err)
}

func detect(inPath, outPath, name, params string, stdout, stderr io.Writer) error {
	d, err := anomaly.NewNamed(name, params)
	if err != nil {
		return daemon.Usagef("%v", err)
	}
	var r io.Reader = os.Stdin
	if inPath != "-" {
		f, err := os.Open(inPath)
		if err != nil {
			return fmt.Errorf("read input: %w", err)
		}
		defer f.Close()
		r = f
	}
	s, err := nab.ReadSeries(r)
	if err != nil {
		return fmt.Errorf("read %s: %w", inPath, err)
	}
	scores, rows := nab.Score(s, d)
	if msg := rows.String(); msg != "" {
		fmt.Fprintf(stderr, "detect: %s\n", msg)
	}
	w := stdout
	var f *os.File
	if outPath != "-" {
		if f, err = os.Create(outPath); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		defer f.Close()
		w = f
	}
	if err := nab.WriteScores(w, s, scores); err != nil {
		return fmt.Errorf("write %s: %w", outPath, err)
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return fmt.Errorf("write %s: %w", outPath, err)
		}
	}
	return nil
}
