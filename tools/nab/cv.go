package nab

import (
	"fmt"
	"math"
)

// Setting is one candidate setting of a detector (its parameters, say)
// with its scores on every file of a corpus, in corpus order.
type Setting struct {
	Name   string
	Scores [][]float64
}

// Fold is one held-out category of a leave-one-category-out
// cross-validation: the setting and the thresholds chosen on the other
// categories, and what they score on this one.
type Fold struct {
	Category string
	// Chosen is the setting with the best standard score on the other
	// categories (the first of equals).
	Chosen string
	// Per profile (Profiles' order): the threshold optimised on the
	// other categories for the chosen setting, and the held-out
	// category's raw and normalised score there (Score is NaN for a
	// category without labelled anomalies).
	Threshold, Raw, Null, Perfect, Score [3]float64
}

// CV is the outcome of CrossValidate.
type CV struct {
	Folds []Fold
	// Score is, per profile, the held-out raw scores of all folds summed
	// and normalised like a corpus score: what the tuning procedure scores
	// on categories it did not see.
	Score [3]float64
}

// CrossValidate runs leave-one-category-out cross-validation: for each
// category it chooses, on the other categories alone, the setting with
// the best standard score and each profile's threshold, and scores the
// held-out category with them. Every setting must have scores for every
// file of c.
func CrossValidate(c *Corpus, settings []Setting) (*CV, error) {
	if len(settings) == 0 {
		return nil, fmt.Errorf("cross-validate: no settings: %w", ErrScores)
	}
	for _, s := range settings {
		if len(s.Scores) != len(c.Files) {
			return nil, fmt.Errorf("cross-validate %q: %d score series for %d files: %w", s.Name, len(s.Scores), len(c.Files), ErrScores)
		}
	}
	var cats []string
	seen := map[string]bool{}
	for _, f := range c.Files {
		if !seen[f.Category] {
			seen[f.Category] = true
			cats = append(cats, f.Category)
		}
	}
	cv := &CV{}
	var raw, null, perfect [3]float64
	for _, cat := range cats {
		fold, err := crossFold(c, settings, cat)
		if err != nil {
			return nil, err
		}
		for k := range Profiles {
			raw[k] += fold.Raw[k]
			null[k] += fold.Null[k]
			perfect[k] += fold.Perfect[k]
		}
		cv.Folds = append(cv.Folds, *fold)
	}
	for k := range Profiles {
		cv.Score[k] = normalise(raw[k], null[k], perfect[k])
	}
	return cv, nil
}

// split returns the files (and their scores) outside and inside category
// cat.
func split(c *Corpus, scores [][]float64, cat string) (train, test *Corpus, trainS, testS [][]float64) {
	train, test = &Corpus{}, &Corpus{}
	for i, f := range c.Files {
		if f.Category == cat {
			test.Files = append(test.Files, f)
			testS = append(testS, scores[i])
		} else {
			train.Files = append(train.Files, f)
			trainS = append(trainS, scores[i])
		}
	}
	return train, test, trainS, testS
}

// crossFold holds out category cat.
func crossFold(c *Corpus, settings []Setting, cat string) (*Fold, error) {
	fold := &Fold{Category: cat}
	var train *Corpus
	trainSet := make([]Setting, len(settings))
	for i, s := range settings {
		train, _, trainSet[i].Scores, _ = split(c, s.Scores, cat)
		trainSet[i].Name = s.Name
	}
	best, err := Choose(train, trainSet)
	if err != nil {
		return nil, err
	}
	s := settings[best]
	fold.Chosen = s.Name
	train, test, trainS, testS := split(c, s.Scores, cat)
	for k, p := range Profiles {
		t, _, _, err := Optimize(train, trainS, p)
		if err != nil {
			return nil, err
		}
		fold.Threshold[k] = t
		for i, f := range test.Files {
			r, _, err := FileScore(f, testS[i], p, t)
			if err != nil {
				return nil, err
			}
			// The null detector never fires (threshold above every score).
			n, _, _ := FileScore(f, make([]float64, len(testS[i])), p, 1.1)
			fold.Raw[k] += r
			fold.Null[k] += n
		}
		fold.Perfect[k] = p.TP * float64(labels(test))
		fold.Score[k] = normalise(fold.Raw[k], fold.Null[k], fold.Perfect[k])
	}
	return fold, nil
}

// Choose returns the index of the setting with the best standard score on
// c (the first of equals): the tuning step that CrossValidate validates.
func Choose(c *Corpus, settings []Setting) (int, error) {
	best, bestScore := -1, math.Inf(-1)
	for i, s := range settings {
		_, r, n, err := Optimize(c, s.Scores, Standard)
		if err != nil {
			return 0, fmt.Errorf("choose %q: %w", s.Name, err)
		}
		if sc := normalise(r, n, Standard.TP*float64(labels(c))); sc > bestScore {
			best, bestScore = i, sc
		}
	}
	if best < 0 {
		return 0, fmt.Errorf("choose: no settings: %w", ErrScores)
	}
	return best, nil
}

// labels counts the labelled anomalies of c.
func labels(c *Corpus) int {
	n := 0
	for _, f := range c.Files {
		n += f.Labels
	}
	return n
}
