package view

import "github.com/ainka/ainka/pipeline"

// Observe wraps a stage's processor so that fn sees every output it
// produces, on the stage's goroutine, before the batch moves on. fn must
// copy what it keeps: the slice is the stage's recycled batch.
func Observe[In, Out any](p pipeline.Processor[In, Out], fn func([]Out)) pipeline.Processor[In, Out] {
	return &observed[In, Out]{p: p, fn: fn}
}

type observed[In, Out any] struct {
	p  pipeline.Processor[In, Out]
	fn func([]Out)
}

func (o *observed[In, Out]) Process(in []In, out []Out) []Out {
	n := len(out)
	out = o.p.Process(in, out)
	if len(out) > n {
		o.fn(out[n:])
	}
	return out
}

// Flush forwards to the wrapped processor when it holds items back.
func (o *observed[In, Out]) Flush(out []Out) []Out {
	f, ok := o.p.(pipeline.Flusher[Out])
	if !ok {
		return out
	}
	n := len(out)
	out = f.Flush(out)
	if len(out) > n {
		o.fn(out[n:])
	}
	return out
}
