package actuate

import "github.com/ainka/ainka/stages/decide"

// Expect asks for the results of the decisions that answer the Optimize
// request id (decide.Decision.Request): once the stage has performed them
// it sends them, possibly none, on the returned channel. The decide stage
// emits all of a request's decisions in one batch, so they are performed
// in one Process call. Call Expect before decide.Stage.Optimize, and
// Forget if you stop waiting.
func (s *Stage) Expect(id uint64) <-chan []Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.expected == nil {
		s.expected = map[uint64]chan []Result{}
	}
	ch := make(chan []Result, 1)
	s.expected[id] = ch
	return ch
}

// Forget stops expecting request id.
func (s *Stage) Forget(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.expected, id)
}

// deliver sends the results of the expected requests among the decisions
// in; rs are the results of in.
func (s *Stage) deliver(in []decide.Decision, rs []Result) {
	for i := range in {
		id := in[i].Request
		ch, ok := s.expected[id]
		if id == 0 || !ok {
			continue
		}
		var mine []Result
		for j := range rs {
			if rs[j].Request == id {
				mine = append(mine, rs[j])
			}
		}
		ch <- mine
		delete(s.expected, id)
	}
}
