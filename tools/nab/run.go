package nab

import (
	"runtime"
	"sync"
)

// Run applies a new detector from newStream to every file of the corpus,
// in parallel, through Score (the path `ainka detect` takes), and returns
// the score series in corpus order.
func Run(c *Corpus, newStream func() Stream) [][]float64 {
	out := make([][]float64, len(c.Files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, f := range c.Files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i], _ = Score(f.Series, newStream())
		}()
	}
	wg.Wait()
	return out
}
