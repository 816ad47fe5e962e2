package decide

import (
	"context"
	"errors"
	"fmt"
)

// ErrNoWindow is returned by Optimize before the stage has seen a window.
var ErrNoWindow = errors.New("no window seen yet")

// Request is an on-demand evaluation asked for with Optimize.
type Request struct {
	id      uint64
	done    chan []Decision // receives the decisions once, then is closed
	inPlace bool            // served without the pipeline, which had ended
	checks  []Check         // every policy, matched or why not; set before done
}

// ID is the number the request's decisions carry in Decision.Request.
func (r *Request) ID() uint64 { return r.id }

// InPipeline reports whether the request's decisions went down the
// pipeline. They did not if the stage's input had ended (Flush was called,
// as in a replay held open for the control API): the evaluation was then
// made at once and its decisions are only returned by Wait, for the
// caller to hand to the actuate stage.
func (r *Request) InPipeline() bool { return !r.inPlace }

// Wait returns the decisions made for the request once the stage has made
// them (they are then on their way down the pipeline), or ctx's error.
func (r *Request) Wait(ctx context.Context) ([]Decision, error) {
	select {
	case ds := <-r.done:
		return ds, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the evaluation: %w", ctx.Err())
	}
}

// ErrRequestID is returned by Optimize for request number 0, which marks
// the decisions of the regular cadence.
var ErrRequestID = errors.New("request number 0 is reserved")

// requests are the Optimize requests not served yet.
type requests struct{ waiting []*Request }

func (q *requests) add(id uint64) *Request {
	r := &Request{id: id, done: make(chan []Decision, 1)}
	q.waiting = append(q.waiting, r)
	return r
}

// Optimize asks for one evaluation of every policy, whatever the cadence,
// on the latest window. The stage makes it on its own goroutine when it
// processes its next batch (or flushes at the end of input), so that the
// decisions go down the pipeline like any other: taps show them and the
// actuate stage applies them. Each carries id in Decision.Request, a
// number the caller chooses (so that it can tell actuate to expect it
// before the stage can make the decisions). Cooldowns still apply. A
// request is served even if its caller stopped waiting.
func (s *Stage) Optimize(id uint64) (*Request, error) {
	if id == 0 {
		return nil, fmt.Errorf("optimize: %w", ErrRequestID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.haveLatest {
		return nil, fmt.Errorf("optimize: %w", ErrNoWindow)
	}
	r := s.requests.add(id)
	if s.ended {
		r.inPlace = true
		s.serve(nil)
	}
	return r, nil
}

// serve makes the waiting requests' evaluations on the latest window. The
// decisions queued by control calls since the last window go with them.
func (s *Stage) serve(out []Decision) []Decision {
	for _, r := range s.requests.waiting {
		from := len(out)
		out = s.drain(s.lastNs, out)
		w := s.latest
		out = s.evaluate(windowEnv{&w}, out)
		for i := from; i < len(out); i++ {
			out[i].Request = r.id
		}
		r.checks = s.check(windowEnv{&w}, out[from:])
		r.done <- append([]Decision(nil), out[from:]...)
		close(r.done)
	}
	clear(s.requests.waiting)
	s.requests.waiting = s.requests.waiting[:0]
	return out
}
