package nab

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GapFactor: a step between two rows longer than GapFactor times the
// series' median step is a gap (a collector that was down).
const GapFactor = 10

// Rows counts what a detector was and was not given of a series.
type Rows struct {
	Total int
	// Missing (NaN or empty) and Infinite values, and rows whose
	// timestamp is before that of the latest row in order (OutOfOrder:
	// a row from the past), are skipped: scored 0, and the detector
	// learns nothing from them.
	Missing, Infinite, OutOfOrder int
	// Repeated rows have the timestamp of the latest row in order (as
	// when a clock set back repeats an hour); they are scored.
	Repeated int
	// Gaps are steps longer than GapFactor × the median step; the
	// detector is told (Stream.Gap) so that it does not learn a
	// transition across it.
	Gaps int
}

// Skipped is the number of rows the detector was not given.
func (r Rows) Skipped() int { return r.Missing + r.Infinite + r.OutOfOrder }

// String summarises the rows for a person ("" when nothing was unusual).
func (r Rows) String() string {
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{
		{r.Missing, "missing (NaN or empty) skipped"}, {r.Infinite, "infinite skipped"},
		{r.OutOfOrder, "out of order (timestamp before an earlier row's) skipped"},
		{r.Repeated, "with a repeated timestamp"}, {r.Gaps, fmt.Sprintf("after a gap (> %d× the median step)", GapFactor)},
	} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("%d rows: %s", r.Total, strings.Join(parts, ", "))
}

// Stream is one series' detector as Score feeds it.
type Stream interface {
	// Score scores x at t and learns from it.
	Score(x float64, t time.Time) float64
	// Gap says that time jumped before the next value.
	Gap()
}

// Score runs st over s in order and returns one score per row (0 for a
// skipped row) and what was skipped.
func Score(s *Series, st Stream) ([]float64, Rows) {
	out := make([]float64, len(s.Values))
	r := Rows{Total: len(s.Values)}
	gap := GapFactor * medianStep(s.Times)
	last := -1 // the latest row given to the detector
	for i, v := range s.Values {
		if last >= 0 {
			switch d := s.Times[i].Sub(s.Times[last]); {
			case d < 0:
				r.OutOfOrder++
				continue
			case d == 0:
				r.Repeated++
			case gap > 0 && d > gap:
				r.Gaps++
				st.Gap()
			}
		}
		last = i
		switch {
		case math.IsNaN(v):
			r.Missing++
		case math.IsInf(v, 0):
			r.Infinite++
		default:
			out[i] = st.Score(v, s.Times[i])
		}
	}
	return out, r
}

// medianStep is the median of the positive steps between rows (0 when
// there is none).
func medianStep(ts []time.Time) time.Duration {
	var d []time.Duration
	for i := 1; i < len(ts); i++ {
		if s := ts[i].Sub(ts[i-1]); s > 0 {
			d = append(d, s)
		}
	}
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// WriteScores writes "timestamp,value,anomaly_score" rows for s and its
// scores, repeating each row's timestamp text as read.
func WriteScores(w io.Writer, s *Series, scores []float64) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("timestamp,value,anomaly_score\n")
	var line []byte
	for i, v := range s.Values {
		line = append(line[:0], s.Raw[i]...)
		line = append(line, ',')
		line = strconv.AppendFloat(line, v, 'g', -1, 64)
		line = append(line, ',')
		line = strconv.AppendFloat(line, scores[i], 'g', -1, 64)
		line = append(line, '\n')
		bw.Write(line)
	}
	return bw.Flush()
}
