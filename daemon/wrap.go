package daemon

import (
	"errors"
	"fmt"

	"github.com/ainka/ainka/pipeline"
)

// Wrapper replaces one stage's processor by a wrapper of it as the chain
// is joined: to observe or delay a stage in a test, or to put something
// in front of it. Make one with WrapStage.
type Wrapper struct {
	stage string
	fn    any // func(pipeline.Processor[In, Out]) pipeline.Processor[In, Out]
}

// WrapStage wraps the processor of the stage named stage with f. In and
// Out must be the stage's types; a mismatch or an unknown stage fails
// Build. A wrapper of a stage that flushes at the end (aggregate) must
// implement pipeline.Flusher itself and call the wrapped one's Flush.
func WrapStage[In, Out any](stage string, f func(pipeline.Processor[In, Out]) pipeline.Processor[In, Out]) Wrapper {
	return Wrapper{stage: stage, fn: f}
}

// joiner adds stages to a pipeline, applying the wrappers.
type joiner struct {
	p     *pipeline.Pipeline
	wraps []Wrapper
	used  []bool
	errs  []error
}

func addStage[In, Out any](j *joiner, name string, in pipeline.Output[In], proc pipeline.Processor[In, Out]) pipeline.Output[Out] {
	if j.used == nil {
		j.used = make([]bool, len(j.wraps))
	}
	for i, w := range j.wraps {
		if w.stage != name {
			continue
		}
		j.used[i] = true
		f, ok := w.fn.(func(pipeline.Processor[In, Out]) pipeline.Processor[In, Out])
		if !ok {
			var in0 In
			var out0 Out
			j.errs = append(j.errs, fmt.Errorf("wrap stage %s: want a func(pipeline.Processor[%T, %T]) pipeline.Processor[%[2]T, %[3]T], got %T", name, in0, out0, w.fn))
			continue
		}
		proc = f(proc)
	}
	return pipeline.AddStage(j.p, name, in, proc)
}

// done reports wrappers of a stage that does not exist and bad wrappers.
func (j *joiner) done() error {
	for i, w := range j.wraps {
		if i >= len(j.used) || !j.used[i] {
			j.errs = append(j.errs, fmt.Errorf("wrap stage %q: %w", w.stage, pipeline.ErrUnknownStage))
		}
	}
	return errors.Join(j.errs...)
}
