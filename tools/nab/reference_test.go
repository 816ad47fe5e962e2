package nab

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// refFile is one row of NAB's numenta_PROFILE_scores.csv.
type refFile struct {
	name   string
	score  float64
	counts Counts
	total  int
}

// readRefScores reads NAB's per-file results for one profile.
func readRefScores(t *testing.T, path string) []refFile {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(recs) < 2 || strings.Join(recs[0], ",") != "Detector,Profile,File,Threshold,Score,TP,TN,FP,FN,Total_Count" {
		t.Fatalf("%s: unexpected header %v", path, recs[0])
	}
	var out []refFile
	for _, r := range recs[1:] {
		if r[2] == "" || r[2] == "Totals" {
			continue
		}
		var n [5]int
		for i := range n {
			if n[i], err = strconv.Atoi(r[5+i]); err != nil {
				t.Fatalf("%s: %s: %v", path, r[2], err)
			}
		}
		sc, err := strconv.ParseFloat(r[4], 64)
		if err != nil {
			t.Fatalf("%s: %s: %v", path, r[2], err)
		}
		out = append(out, refFile{name: r[2], score: sc, counts: Counts{TP: n[0], TN: n[1], FP: n[2], FN: n[3]}, total: n[4]})
	}
	return out
}

// refThresholds reads NAB's thresholds.json for the numenta detector.
func refThresholds(t *testing.T, path string) map[string]float64 {
	t.Helper()
	var th map[string]map[string]struct{ Threshold float64 }
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &th); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]float64{}
	for p, v := range th["numenta"] {
		out[p] = v.Threshold
	}
	return out
}

// sameFloat allows for NAB printing scores with 12 significant digits.
func sameFloat(got, want float64) bool {
	return math.Abs(got-want) <= 1e-10*math.Max(1, math.Abs(want))
}

// TestNABReference holds the scorer to NAB itself: for the Numenta HTM
// detector's published anomaly scores on the 41 development files, at
// NAB's published thresholds, every per-file raw score and TP/TN/FP/FN
// count of all three profiles equals NAB's, and so does every row's share
// of the score (NAB's S(t)_PROFILE column). In CI a missing reference fails.
func TestNABReference(t *testing.T) {
	dir := TestData(t)
	ref := filepath.Join(dir, "reference", "numenta")
	c, err := LoadCorpus(dir)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*File{}
	for _, f := range c.Files {
		byName[f.Name] = f
	}
	thresholds := refThresholds(t, filepath.Join(ref, "thresholds.json"))
	for _, p := range Profiles {
		th, ok := thresholds[p.Name]
		if !ok {
			t.Fatalf("thresholds.json has no %s", p.Name)
		}
		files := readRefScores(t, filepath.Join(ref, "numenta_"+p.Name+"_scores.csv"))
		if len(files) != len(c.Files) {
			t.Errorf("%s: %d reference files, corpus has %d", p.Name, len(files), len(c.Files))
		}
		for _, rf := range files {
			f := byName[rf.name]
			if f == nil {
				t.Errorf("%s: reference file %s not in the corpus", p.Name, rf.name)
				continue
			}
			scores, shares := readRefRows(t, ref, f, p)
			raw, cnt, err := FileScore(f, scores, p, th)
			if err != nil {
				t.Fatal(err)
			}
			if !sameFloat(raw, rf.score) {
				t.Errorf("%s %s: score %.12g, NAB %.12g", p.Name, f.Name, raw, rf.score)
			}
			if cnt != rf.counts || len(scores) != rf.total {
				t.Errorf("%s %s: counts %+v of %d rows, NAB %+v of %d", p.Name, f.Name, cnt, len(scores), rf.counts, rf.total)
			}
			checkShares(t, f, scores, p, th, shares)
		}
	}
}

// readRefRows reads a NAB results file: the detector's score and NAB's
// per-row share of the file score for profile p.
func readRefRows(t *testing.T, ref string, f *File, p Profile) (scores, shares []float64) {
	t.Helper()
	path := filepath.Join(ref, filepath.Dir(f.Name), "numenta_"+filepath.Base(f.Name))
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if scores, err = ReadResults(fh, f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	fh.Seek(0, 0)
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	col := -1
	for i, h := range recs[0] {
		if h == "S(t)_"+p.Name {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("%s: no S(t)_%s column", path, p.Name)
	}
	for _, r := range recs[1:] {
		v, err := strconv.ParseFloat(r[col], 64)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		shares = append(shares, v)
	}
	return scores, shares
}

// checkShares compares NAB's per-row attribution of the file score: a
// window's value (its best detection, or -FN) sits on its first scorable
// row, a false positive's cost on its own row, zero elsewhere.
func checkShares(t *testing.T, f *File, scores []float64, p Profile, th float64, want []float64) {
	t.Helper()
	rows, _ := sweep(f, scores, p, 0, nil)
	prob := len(scores) - len(rows)
	got := make([]float64, len(scores))
	first := map[int]int{}
	for k, r := range rows {
		i := prob + k
		if r.win < 0 {
			if r.score >= th {
				got[i] = r.sweep
			}
			continue
		}
		at, seen := first[r.win]
		if !seen {
			at, first[r.win] = i, i
			got[i] = -p.FN
		}
		if r.score >= th && r.sweep > got[at] {
			got[at] = r.sweep
		}
	}
	bad := 0
	for i := range got {
		if !sameFloat(got[i], want[i]) {
			if bad++; bad <= 3 {
				t.Errorf("%s %s row %d: share %.12g, NAB %.12g", p.Name, f.Name, i, got[i], want[i])
			}
		}
	}
	if bad > 3 {
		t.Errorf("%s %s: %d rows differ in all", p.Name, f.Name, bad)
	}
}
