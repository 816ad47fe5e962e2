package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/ainka/ainka/stages/predict/anomaly"
	"github.com/ainka/ainka/tools/nab"
)

// gridSettings expands a grid "name=v1|v2;name2=w1|w2" into every
// combination of overrides, each appended to base ("" for the defaults).
func gridSettings(base, grid string) []string {
	out := []string{base}
	for _, axis := range strings.Split(grid, ";") {
		axis = strings.TrimSpace(axis)
		if axis == "" {
			continue
		}
		name, vals, _ := strings.Cut(axis, "=")
		var next []string
		for _, prev := range out {
			for _, v := range strings.Split(vals, "|") {
				kv := name + "=" + v
				if prev != "" {
					kv = prev + "," + kv
				}
				next = append(next, kv)
			}
		}
		out = next
	}
	return out
}

// crossValidate runs detector name with every setting of the grid over c,
// cross-validates the choice leave-one-category-out and prints each
// fold beside the in-sample score of the setting chosen on all categories.
func crossValidate(c *nab.Corpus, name, base, grid string, stdout, stderr io.Writer) int {
	var settings []nab.Setting
	for _, p := range gridSettings(base, grid) {
		newDet, err := anomaly.Factory(name, p)
		if err != nil {
			fmt.Fprintln(stderr, "nabscore:", err)
			return 2
		}
		settings = append(settings, nab.Setting{Name: p, Scores: nab.Run(c, func() nab.Stream { return newDet() })})
	}
	cv, err := nab.CrossValidate(c, settings)
	if err != nil {
		fmt.Fprintln(stderr, "nabscore:", err)
		return 1
	}
	// In sample: the procedure applied to every category.
	chosen, err := nab.Choose(c, settings)
	if err != nil {
		fmt.Fprintln(stderr, "nabscore:", err)
		return 1
	}
	res, err := nab.Evaluate(c, settings[chosen].Scores)
	if err != nil {
		fmt.Fprintln(stderr, "nabscore:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d settings; chosen on all categories: %q\n", len(settings), settings[chosen].Name)
	fmt.Fprintf(stdout, "%-22s %-26s %s\n", "held-out category", "held-out std/lowFP/lowFN", "in-sample std/lowFP/lowFN, chosen on the others")
	for i, f := range cv.Folds {
		fmt.Fprintf(stdout, "%-22s %s   %s  %q threshold %.4f\n", f.Category, triple(f.Score), triple([3]float64{
			res[0].Categories[i].Score, res[1].Categories[i].Score, res[2].Categories[i].Score}), f.Chosen, f.Threshold[0])
	}
	fmt.Fprintf(stdout, "%-22s %s   %s\n", "corpus", triple(cv.Score), triple([3]float64{res[0].Score, res[1].Score, res[2].Score}))
	return 0
}

func triple(v [3]float64) string {
	return fmt.Sprintf("%6.2f %6.2f %6.2f", v[0], v[1], v[2])
}
