package nab

import (
	"runtime"
	"sync"
	"time"
)

// Scorer is a fresh detector for one series: it is called once per row in
// order with the value and the row's wall-clock time, and returns the
// row's anomaly score in [0,1].
type Scorer func(x float64, t time.Time) float64

// Run applies a new detector from newDetector to every file of the corpus,
// in parallel, and returns the score series in corpus order.
func Run(c *Corpus, newDetector func() Scorer) [][]float64 {
	out := make([][]float64, len(c.Files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, f := range c.Files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			det := newDetector()
			sc := make([]float64, len(f.Series.Values))
			for j, v := range f.Series.Values {
				sc[j] = det(v, f.Series.Times[j])
			}
			out[i] = sc
		}()
	}
	wg.Wait()
	return out
}
