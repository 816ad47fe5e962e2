package nab

import (
	"math"
	"strings"
	"testing"
	"time"
)

// recorder is a Stream that records what it was given.
type recorder struct {
	xs   []float64
	gaps []int
}

func (r *recorder) Score(x float64, t time.Time) float64 { r.xs = append(r.xs, x); return 0.5 }
func (r *recorder) Gap()                                 { r.gaps = append(r.gaps, len(r.xs)) }

func TestScoreSkipsBadRows(t *testing.T) {
	s, err := ReadSeries(strings.NewReader("timestamp,value\n" +
		"2015-01-01 00:00:00,1\n" +
		"2015-01-01 00:05:00,NaN\n" +
		"2015-01-01 00:10:00,\n" +
		"2015-01-01 00:15:00,inf\n" +
		"2015-01-01 00:20:00,-Inf\n" +
		"2015-01-01 00:25:00,2\n" +
		"2015-01-01 00:20:00,3\n" + // from the past
		"2015-01-01 00:25:00,4\n" + // repeats the latest timestamp
		"2015-01-01 00:30:00,5\n" +
		"2015-01-01 09:00:00,6\n")) // a gap
	if err != nil {
		t.Fatal(err)
	}
	var r recorder
	scores, rows := Score(s, &r)
	want := Rows{Total: 10, Missing: 2, Infinite: 2, OutOfOrder: 1, Repeated: 1, Gaps: 1}
	if rows != want || rows.Skipped() != 5 {
		t.Errorf("rows %+v, want %+v", rows, want)
	}
	if got := r.xs; len(got) != 5 || got[0] != 1 || got[1] != 2 || got[2] != 4 || got[4] != 6 {
		t.Errorf("detector given %v, want [1 2 4 5 6]", got)
	}
	if len(r.gaps) != 1 || r.gaps[0] != 4 {
		t.Errorf("gaps reported before values %v, want [4]", r.gaps)
	}
	for i, sc := range scores {
		if bad := i >= 1 && i <= 4 || i == 6; bad != (sc == 0) || math.IsNaN(sc) {
			t.Errorf("row %d scored %v", i, sc)
		}
	}
	if msg := rows.String(); !strings.Contains(msg, "10 rows: 2 missing") || !strings.Contains(msg, "1 after a gap") {
		t.Errorf("summary %q", msg)
	}
	if (Rows{Total: 3}).String() != "" {
		t.Error("a clean series has a summary")
	}
}
