package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

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
// per input row in the same order ("-" is stdin or stdout).
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
		err = detect(*in, *out, *det, *params, stdout)
	}
	return exitCode(stderr, "detect", err)
}

func detect(inPath, outPath, name, params string, stdout io.Writer) error {
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
	w := stdout
	var f *os.File
	if outPath != "-" {
		if f, err = os.Create(outPath); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	bw.WriteString("timestamp,value,anomaly_score\n")
	var line []byte
	for i, v := range s.Values {
		line = append(line[:0], s.Raw[i]...)
		line = append(line, ',')
		line = strconv.AppendFloat(line, v, 'g', -1, 64)
		line = append(line, ',')
		// The time of day and of week are context for the detector (what
		// is usual at this hour); they come from the row's own timestamp.
		line = strconv.AppendFloat(line, d.UpdateAt(v, anomaly.Bucket(s.Times[i])), 'g', -1, 64)
		line = append(line, '\n')
		bw.Write(line)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", outPath, err)
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return fmt.Errorf("write %s: %w", outPath, err)
		}
	}
	return nil
}
