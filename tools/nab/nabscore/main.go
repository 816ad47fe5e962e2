// Command nabscore runs one of the predict stage's anomaly detectors over
// the NAB development corpus and scores it with the project's NAB scorer:
//
//	go run ./tools/nab/nabscore [-data ../shared/nab] [-detector ainka] [-params alpha=0.05,rest=150] [-files]
//
// With -results DIR it scores CSV files DIR/CATEGORY/NAME.csv instead
// (columns timestamp,value,anomaly_score, as `ainka detect` writes them and
// as NAB's results files begin), so any detector's output can be scored.
//
// It prints the normalised score for each profile, per category and over
// the corpus, with the corpus-optimised thresholds.
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/ainka/ainka/stages/predict/anomaly"
	"github.com/ainka/ainka/tools/nab"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nabscore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wd, _ := os.Getwd()
	def, _ := nab.DefaultDir(wd)
	data := fs.String("data", def, "NAB corpus directory (combined_windows.json, data/)")
	name := fs.String("detector", anomaly.DefaultName, "detector: "+fmt.Sprint(anomaly.Names()))
	params := fs.String("params", "", "parameter overrides name=value,... (see anomaly.Params)")
	dump := fs.String("dump", "", "print every row of this corpus file (CATEGORY/NAME.csv) with its window flag and component scores, then exit")
	subset := fs.String("subset", "", "score only the even or odd files of the sorted corpus (even|odd), to check that a setting generalises")
	results := fs.String("results", "", "score the CSV files under this directory (CATEGORY/NAME.csv with an anomaly_score column) instead of running a detector")
	files := fs.Bool("files", false, "also print each file's raw score (standard profile)")
	cv := fs.Bool("cv", false, "leave-one-category-out cross-validation of choosing among the -grid settings")
	grid := fs.String("grid", "", "with -cv: settings to choose among, name=v1|v2;name2=w1|w2 (every combination, on top of -params)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	newDet, err := anomaly.Factory(*name, *params)
	if err != nil {
		fmt.Fprintln(stderr, "nabscore:", err)
		return 2
	}
	c, err := nab.LoadCorpus(*data)
	if err != nil {
		fmt.Fprintln(stderr, "nabscore:", err)
		return 1
	}
	if err := keepSubset(c, *subset); err != nil {
		fmt.Fprintln(stderr, "nabscore:", err)
		return 2
	}
	if *cv {
		return crossValidate(c, *name, *params, *grid, stdout, stderr)
	}
	if *dump != "" {
		return dumpFile(c, *dump, *name, *params, stdout, stderr)
	}
	start := time.Now()
	var scores [][]float64
	if *results != "" {
		*name = "results " + *results
		if scores, err = readResults(c, *results); err != nil {
			fmt.Fprintln(stderr, "nabscore:", err)
			return 1
		}
	} else {
		scores = nab.Run(c, func() nab.Stream { return newDet() })
	}
	detTime := time.Since(start)
	res, err := nab.Evaluate(c, scores)
	if err != nil {
		fmt.Fprintln(stderr, "nabscore:", err)
		return 1
	}
	rows := 0
	for _, f := range c.Files {
		rows += len(f.Series.Values)
	}
	fmt.Fprintf(stdout, "detector %s params %q: %d files, %d rows, detection %v, total %v\n",
		*name, *params, len(c.Files), rows, detTime.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	printReport(stdout, res, *files)
	return 0
}

// keepSubset keeps the even or odd files of the sorted corpus ("": all).
func keepSubset(c *nab.Corpus, subset string) error {
	switch subset {
	case "":
		return nil
	case "even", "odd":
	default:
		return fmt.Errorf("-subset %q: want even or odd", subset)
	}
	keep := c.Files[:0:0]
	for i, f := range c.Files {
		if (i%2 == 0) == (subset == "even") {
			keep = append(keep, f)
		}
	}
	c.Files = keep
	return nil
}

// readResults reads another detector's scores, one CSV per corpus file
// under dir.
func readResults(c *nab.Corpus, dir string) ([][]float64, error) {
	var scores [][]float64
	for _, f := range c.Files {
		fh, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.Name)))
		if err != nil {
			return nil, err
		}
		sc, err := nab.ReadResults(fh, f)
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fh.Name(), err)
		}
		scores = append(scores, sc)
	}
	return scores, nil
}

// printReport prints the scores per category and profile, and with files
// each file's raw score.
func printReport(stdout io.Writer, res []nab.Result, files bool) {
	fmt.Fprintf(stdout, "%-24s %9s %9s %9s\n", "category", "standard", "low_FP", "low_FN")
	for i := range res[0].Categories {
		fmt.Fprintf(stdout, "%-24s", res[0].Categories[i].Category)
		for _, r := range res {
			cr := r.Categories[i]
			if math.IsNaN(cr.Score) {
				fmt.Fprintf(stdout, " %9s", fmt.Sprintf("(%.2f)", cr.Raw))
			} else {
				fmt.Fprintf(stdout, " %9.2f", cr.Score)
			}
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "%-24s", "corpus")
	for _, r := range res {
		fmt.Fprintf(stdout, " %9.2f", r.Score)
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "%-24s", "threshold")
	for _, r := range res {
		fmt.Fprintf(stdout, " %9.4f", r.Threshold)
	}
	fmt.Fprintln(stdout)
	det, win, fps, fpc := 0, 0, 0, 0.0
	for _, f := range res[0].Files {
		det += f.Detected
		win += f.Windows
		fps += f.Counts.FP
		fpc += f.FPCost
		if files {
			fmt.Fprintf(stdout, "%-60s %8.3f windows %d/%d fp=%d fp_cost=%.3f\n", f.Name, f.Raw, f.Detected, f.Windows, f.Counts.FP, f.FPCost)
		}
	}
	fmt.Fprintf(stdout, "standard: windows detected %d/%d, false positives %d costing %.3f\n", det, win, fps, fpc)
}

func dumpFile(c *nab.Corpus, file, name, params string, stdout, stderr io.Writer) int {
	for _, f := range c.Files {
		if f.Name != file {
			continue
		}
		d, err := anomaly.NewNamed(name, params)
		if err != nil {
			fmt.Fprintln(stderr, "nabscore:", err)
			return 2
		}
		w := 0
		fmt.Fprintln(stdout, "row,value,window,score,fast,slow,seq,spatial,raw_fast,raw_seq")
		for i, v := range f.Series.Values {
			in := 0
			for _, win := range f.Windows {
				if i >= win.Start && i <= win.End {
					in = 1
				}
			}
			_ = w
			s := d.UpdateAt(v, anomaly.Bucket(f.Series.Times[i]))
			p := d.Parts
			fmt.Fprintf(stdout, "%d,%g,%d,%.3f,%.3f,%.3f,%.3f,%.0f,%.3f,%.3f\n", i, v, in, s, p[0], p[1], p[2], p[3], p[4], p[5])
		}
		return 0
	}
	fmt.Fprintf(stderr, "nabscore: %q is not a corpus file\n", file)
	return 2
}
