package daemon

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/ainka/ainka/pipeline"
)

// TapSpec is one --tap STAGE or --tap STAGE=PATH.
type TapSpec struct {
	Stage string
	Path  string // "" = standard output
}

// ParseTap reads STAGE or STAGE=PATH and checks the stage name, so that a
// typo fails before anything starts.
func ParseTap(v string) (TapSpec, error) {
	stage, path, hasPath := strings.Cut(v, "=")
	if !slices.Contains(StageNames, stage) {
		return TapSpec{}, fmt.Errorf("unknown stage %q (stages: %s)", stage, strings.Join(StageNames, ", "))
	}
	if hasPath && path == "" {
		return TapSpec{}, fmt.Errorf("empty path in %q", v)
	}
	return TapSpec{Stage: stage, Path: path}, nil
}

// Taps are the open outputs of --tap.
type Taps struct {
	specs []TapSpec
	ws    []io.Writer
	files []*os.File
	// log reports a tap closed by a write error (tapGuard).
	log *slog.Logger
}

// OpenTaps creates the tap files (stdout for the others). Several taps on
// stdout write whole lines that name their stage.
func OpenTaps(specs []TapSpec, stdout io.Writer) (*Taps, error) {
	t := &Taps{specs: specs}
	onStdout := 0
	for _, s := range specs {
		if s.Path == "" {
			onStdout++
		}
	}
	var mu sync.Mutex
	for _, s := range specs {
		if s.Path == "" && onStdout > 1 {
			t.ws = append(t.ws, newStageLines(&mu, stdout, s.Stage))
			continue
		}
		if s.Path == "" {
			t.ws = append(t.ws, stdout)
			continue
		}
		f, err := os.Create(s.Path)
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("tap %s: %w", s.Stage, err)
		}
		t.files = append(t.files, f)
		t.ws = append(t.ws, f)
	}
	return t, nil
}

// Attach subscribes the taps to their stages. Lossless taps wait instead
// of dropping (a replay: determinism).
func (t *Taps) Attach(p *pipeline.Pipeline, lossless bool) error {
	for i, s := range t.specs {
		w := &tapGuard{stage: s.Stage, w: t.ws[i], log: &t.log}
		if err := p.Tap(s.Stage, w, pipeline.TapOptions{Lossless: lossless}); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the tap files; closing twice is harmless.
func (t *Taps) Close() error {
	if t == nil {
		return nil
	}
	var errs []error
	for _, f := range t.files {
		errs = append(errs, f.Close())
	}
	t.files = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close tap file: %w", err)
	}
	return nil
}
