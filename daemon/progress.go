package daemon

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress redraws one status line on a terminal while a replay runs.
type progress struct {
	w     io.Writer
	total uint64
	c     *Chain
	done  chan struct{}
	wg    sync.WaitGroup
}

func startProgress(w io.Writer, path string, repeat int, c *Chain) *progress {
	p := &progress{w: w, total: CountRecords(path) * uint64(repeat), c: c, done: make(chan struct{})}
	p.wg.Add(1)
	go p.loop()
	return p
}

func (p *progress) loop() {
	defer p.wg.Done()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	start := time.Now()
	for {
		select {
		case <-p.done:
			fmt.Fprint(p.w, "\r\033[K")
			return
		case <-t.C:
			var n uint64
			for _, s := range p.c.Pipeline.Stats() {
				if s.Name == "decode" {
					n = s.In
				}
			}
			p.draw(n, time.Since(start))
		}
	}
}

func (p *progress) draw(n uint64, el time.Duration) {
	const width = 30
	frac := 0.0
	if p.total > 0 {
		frac = min(float64(n)/float64(p.total), 1)
	}
	fill := int(frac * width)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%% %d events %.2fM/s", strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		100*frac, n, float64(n)/el.Seconds()/1e6)
}

func (p *progress) stop() {
	if p == nil {
		return
	}
	close(p.done)
	p.wg.Wait()
}
