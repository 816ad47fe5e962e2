package daemon

import (
	"bytes"
	"io"
	"strconv"
	"sync"
)

// stageLines is one tap's share of a writer that several taps write to:
// every JSON line gets the stage's name as its first key, and lines are
// written whole under a lock the taps share. A tap's writes are chunks of
// its 64 KiB buffer, not lines, so without this two taps' lines would
// interleave mid-object.
type stageLines struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix []byte // {"stage":"NAME",
	part   []byte // an unfinished line
	out    []byte
}

func newStageLines(mu *sync.Mutex, w io.Writer, stage string) *stageLines {
	return &stageLines{mu: mu, w: w, prefix: []byte(`{"stage":` + strconv.Quote(stage) + `,`)}
}

func (s *stageLines) Write(p []byte) (int, error) {
	n := len(p)
	s.out = s.out[:0]
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.part = append(s.part, p...)
			break
		}
		line := p[:i+1]
		if len(s.part) > 0 {
			s.part = append(s.part, line...)
			line = s.part
		}
		s.out = s.label(s.out, line)
		s.part = s.part[:0]
		p = p[i+1:]
	}
	if len(s.out) == 0 {
		return n, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(s.out); err != nil {
		return 0, err
	}
	return n, nil
}

// label appends line with the stage key inserted after its opening brace.
func (s *stageLines) label(dst, line []byte) []byte {
	switch {
	case bytes.HasPrefix(line, []byte("{}")):
		dst = append(dst, s.prefix[:len(s.prefix)-1]...)
		return append(dst, line[1:]...)
	case len(line) > 0 && line[0] == '{':
		dst = append(dst, s.prefix...)
		return append(dst, line[1:]...)
	}
	return append(dst, line...)
}
