package warm

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/stages/tune"
)

// Report says what an import took.
type Report struct {
	From    string    `json:"from_host"`
	Created time.Time `json:"exported"`
	Facts   Facts     `json:"facts"`
	Predict predict.ModelMerge
	Tuners  *tune.ModelMerge `json:",omitempty"` // nil: the bundle had no tuner model or p.Tuners is ""
}

func (r Report) String() string {
	s := fmt.Sprintf("merged the model of %s (exported %s): detectors of %d features taken",
		r.From, r.Created.Format(time.RFC3339), r.Predict.Features)
	if r.Predict.Created {
		s += " (no model here before)"
	}
	if r.Predict.Joint {
		s += ", and the joint detector"
	}
	if r.Tuners != nil {
		s += fmt.Sprintf("; tuners: %d regimes and %d best settings added", r.Tuners.Regimes, r.Tuners.Bests)
	}
	return s
}

// Import checks the bundle b against this host's facts and merges its
// models into the files at p. Nothing is written when any check fails.
func Import(b []byte, p Paths, here Facts) (Report, error) {
	h, pm, tm, err := decode(b)
	if err != nil {
		return Report{}, err
	}
	if err := compatible(h.Facts, here); err != nil {
		return Report{}, err
	}
	// Check both models before writing either.
	if err := predict.CheckModel(pm); err != nil {
		return Report{}, err
	}
	if err := tuneCheck(tm); err != nil {
		return Report{}, fmt.Errorf("%w: tuner model: %v", ErrCorrupt, err)
	}
	r := Report{From: h.Host, Created: h.Created, Facts: h.Facts}
	if r.Predict, err = predict.MergeModel(p.Predict, pm); err != nil {
		return Report{}, err
	}
	if len(tm) > 0 && p.Tuners != "" {
		m, err := tune.MergeModel(p.Tuners, tm)
		if err != nil {
			return r, err
		}
		r.Tuners = &m
	}
	return r, nil
}

// Load reads a bundle from a path or an http(s) URL ([ml] seed_model).
func Load(ctx context.Context, src string) ([]byte, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		f, err := os.Open(src)
		if err != nil {
			return nil, fmt.Errorf("read model bundle: %w", err)
		}
		defer f.Close()
		return readBounded(f, src)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, fmt.Errorf("model bundle URL: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch model bundle: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch model bundle %s: HTTP %d", src, resp.StatusCode)
	}
	return readBounded(resp.Body, src)
}

func readBounded(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBundle+1))
	if err != nil {
		return nil, fmt.Errorf("read model bundle %s: %w", name, err)
	}
	if len(b) > MaxBundle {
		return nil, fmt.Errorf("%w: %s is larger than %d MiB", ErrCorrupt, name, MaxBundle>>20)
	}
	return b, nil
}
