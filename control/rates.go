package control

import (
	"context"
	"sync"
	"time"
)

// rateSampler turns the daemon's cumulative stage counters into per-second
// rates: it samples Status once a second and, at each request, compares the
// fresh counters with the newest sample at least rateWindow old.
type rateSampler struct {
	mu      sync.Mutex
	samples []rateSample // oldest first, at most maxSamples
}

type rateSample struct {
	at     time.Time
	stages map[string]StageStatus
}

const (
	rateWindow   = time.Second
	samplePeriod = time.Second
	maxSamples   = 4
)

func (r *rateSampler) run(ctx context.Context, d Daemon, timeout time.Duration) {
	t := time.NewTicker(samplePeriod)
	defer t.Stop()
	r.sample(ctx, d, timeout)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.sample(ctx, d, timeout)
		}
	}
}

func (r *rateSampler) sample(ctx context.Context, d Daemon, timeout time.Duration) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	st, err := d.Status(cctx)
	cancel()
	if err != nil {
		return
	}
	r.add(st, time.Now())
}

func (r *rateSampler) add(st Status, at time.Time) {
	m := make(map[string]StageStatus, len(st.Stages))
	for _, s := range st.Stages {
		m[s.Name] = s
	}
	r.mu.Lock()
	r.samples = append(r.samples, rateSample{at: at, stages: m})
	if len(r.samples) > maxSamples {
		r.samples = r.samples[len(r.samples)-maxSamples:]
	}
	r.mu.Unlock()
}

// fill sets the rates of st's stages. Before any sample is old enough (the
// first second), it uses the average since the daemon started.
func (r *rateSampler) fill(st *Status, now time.Time) {
	r.mu.Lock()
	var base *rateSample
	for i := len(r.samples) - 1; i >= 0; i-- {
		if now.Sub(r.samples[i].at) >= rateWindow {
			base = &r.samples[i]
			break
		}
	}
	r.mu.Unlock()
	for i := range st.Stages {
		s := &st.Stages[i]
		var prev StageStatus
		var dt float64
		if base != nil {
			prev = base.stages[s.Name]
			dt = now.Sub(base.at).Seconds()
		} else {
			dt = st.UptimeSec
		}
		if dt <= 0 || s.In < prev.In || s.Out < prev.Out || s.Dropped < prev.Dropped {
			continue // no interval yet, or the counters were reset
		}
		s.InPerSec = float64(s.In-prev.In) / dt
		s.OutPerSec = float64(s.Out-prev.Out) / dt
		s.DropPerSec = float64(s.Dropped-prev.Dropped) / dt
	}
}
