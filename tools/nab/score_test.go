package nab

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// toyFile is 60 rows one minute apart with one window on rows 20..23
// (width 4). The probationary period is floor(0.15*60) = 9 rows.
func toyFile() *File {
	s := &Series{}
	t0 := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 60; i++ {
		s.Times = append(s.Times, t0.Add(time.Duration(i)*time.Minute))
		s.Raw = append(s.Raw, s.Times[i].Format(timeLayout))
		s.Values = append(s.Values, float64(i))
	}
	return &File{Name: "toy/a.csv", Category: "toy", Series: s, Windows: []Window{{20, 23}}, Labels: 1}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-5 }

// Hand-worked values (computed on paper from NAB's formulas):
//
//	S(p) = 2/(1+exp(5p)) - 1; maxTP = S(-1) = 2/(1+e^-5) - 1 = 0.986614
//	first detection at row 21: p = -(23-21+1)/4 = -0.75,
//	  S = 2/(1+e^-3.75) - 1 = 0.954044, weighted 0.954044/0.986614 = 0.966989
//	false positive at row 26: p = |23-26|/(4-1) = 1, S = -0.986614,
//	  weighted by fp 0.11: -0.108528
//	false positive at row 15 (before any window): -1 * 0.11 = -0.11
const (
	tpRow9  = 0.966989
	fpRow14 = -0.108528
	fpRow5  = -0.11
)

func TestScaledSigmoid(t *testing.T) {
	for _, c := range []struct{ p, want float64 }{
		{-1, 0.986614}, {-0.5, 0.848284}, {0, 0}, {1, -0.986614}, {3, -1}, {10, -1},
	} {
		if got := ScaledSigmoid(c.p); !near(got, c.want) {
			t.Errorf("S(%v) = %v, want %v", c.p, got, c.want)
		}
	}
}

func TestProbationLength(t *testing.T) {
	for _, c := range []struct{ n, want int }{{20, 3}, {4032, 604}, {10000, 750}, {1, 0}} {
		if got := ProbationLength(c.n); got != c.want {
			t.Errorf("ProbationLength(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

func TestFileScoreHandWorked(t *testing.T) {
	f := toyFile()
	sc := make([]float64, 60)
	sc[2] = 1  // probationary: ignored
	sc[15] = 1 // FP before the window
	sc[21] = 1 // first detection in the window
	sc[22] = 1
	sc[26] = 1 // FP after the window
	raw, c, err := FileScore(f, sc, Standard, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if want := tpRow9 + fpRow5 + fpRow14; !near(raw, want) {
		t.Errorf("raw = %v, want %v", raw, want)
	}
	if want := (Counts{TP: 2, FP: 2, FN: 2, TN: 45}); c != want {
		t.Errorf("counts = %+v, want %+v", c, want)
	}
	// The earliest detection is what counts: adding row 20 makes the window
	// worth exactly tpWeight.
	sc[20] = 1
	raw, _, _ = FileScore(f, sc, Standard, 0.5)
	if want := 1 + fpRow5 + fpRow14; !near(raw, want) {
		t.Errorf("raw with left-edge detection = %v, want %v", raw, want)
	}
	// A missed window costs fnWeight, per profile.
	zero := make([]float64, 60)
	for _, c := range []struct {
		p    Profile
		want float64
	}{{Standard, -1}, {LowFP, -1}, {LowFN, -2}} {
		raw, _, _ := FileScore(f, zero, c.p, 0.5)
		if !near(raw, c.want) {
			t.Errorf("%s: missed window = %v, want %v", c.p.Name, raw, c.want)
		}
	}
}

func TestOptimizeHandWorked(t *testing.T) {
	f := toyFile()
	sc := make([]float64, 60)
	sc[15], sc[21], sc[26] = 0.9, 0.8, 0.6
	c := &Corpus{Files: []*File{f}}
	// Thresholds visited: 1.1 -> -1; 0.9 -> -1.11; 0.8 -> -0.11+0.966989;
	// 0.6 -> that -0.108528; 0 -> every row detected (worse).
	th, raw, null, err := Optimize(c, [][]float64{sc}, Standard)
	if err != nil {
		t.Fatal(err)
	}
	if th != 0.8 || !near(raw, tpRow9+fpRow5) || null != -1 {
		t.Errorf("Optimize = (%v, %v, %v), want (0.8, %v, -1)", th, raw, null, tpRow9+fpRow5)
	}
	res, err := Evaluate(c, [][]float64{sc})
	if err != nil {
		t.Fatal(err)
	}
	// Normalised: 100*(raw-null)/(perfect-null) = 100*(0.856989+1)/2.
	if want := 100 * (tpRow9 + fpRow5 + 1) / 2; !near(res[0].Score, want) {
		t.Errorf("standard score = %v, want %v", res[0].Score, want)
	}
	// reward_low_FP_rate doubles the FP cost: 0.966989-0.22 at 0.8.
	if want := 100 * (tpRow9 - 0.22 + 1) / 2; !near(res[1].Score, want) {
		t.Errorf("low-FP score = %v, want %v", res[1].Score, want)
	}
	// The null detector scores 0 and a perfect one 100. (Detecting every
	// row would cost 11 full FPs before the window, so NAB's null detector
	// keeps the threshold above 1 and scores -fnWeight.)
	perfect := make([]float64, 60)
	perfect[20] = 1
	res, _ = Evaluate(c, [][]float64{make([]float64, 60)})
	if res[0].Score != 0 {
		t.Errorf("null detector = %v, want 0", res[0].Score)
	}
	res, _ = Evaluate(c, [][]float64{perfect})
	if !near(res[0].Score, 100) || !near(res[2].Score, 100) {
		t.Errorf("perfect detector = %v/%v, want 100", res[0].Score, res[2].Score)
	}
}

func TestScoresMismatch(t *testing.T) {
	c := &Corpus{Files: []*File{toyFile()}}
	if _, _, _, err := Optimize(c, [][]float64{make([]float64, 3)}, Standard); !errors.Is(err, ErrScores) {
		t.Errorf("short scores: err = %v, want ErrScores", err)
	}
}

func TestReadSeriesErrors(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     error
		line     string
	}{
		{"empty", "", ErrEmpty, "line 1"},
		{"header", "time,value\n2015-01-01 00:00:00,1\n", ErrHeader, "line 1"},
		{"value", "timestamp,value\n2015-01-01 00:00:00,1\n2015-01-01 00:05:00,x\n", ErrValue, "line 3"},
		{"timestamp", "timestamp,value\n2015-13-01 00:00:00,1\n", ErrTimestamp, "line 2"},
		{"columns", "timestamp,value\n2015-01-01 00:00:00,1,2\n", ErrColumns, "line 2"},
		{"no rows", "timestamp,value\n", ErrNoRows, "line 1"},
	} {
		_, err := ReadSeries(strings.NewReader(c.in))
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.line) {
			t.Errorf("%s: err = %v, want %v at %s", c.name, err, c.want, c.line)
		}
	}
	s, err := ReadSeries(strings.NewReader("timestamp,value\r\n2015-01-01 00:00:00,1.5\r\n2015-01-01 00:05:00,2\r\n"))
	if err != nil || len(s.Values) != 2 || s.Values[0] != 1.5 || s.Raw[1] != "2015-01-01 00:05:00" {
		t.Errorf("good CSV: %+v, %v", s, err)
	}
}

func TestReadResults(t *testing.T) {
	f := toyFile()
	var b strings.Builder
	b.WriteString("timestamp,value,anomaly_score\n")
	for i, ts := range f.Series.Raw {
		b.WriteString(ts + ",1,0." + string(rune('0'+i%10)) + "\n")
	}
	sc, err := ReadResults(strings.NewReader(b.String()), f)
	if err != nil || len(sc) != 60 || sc[3] != 0.3 {
		t.Fatalf("ReadResults: %v %v", sc, err)
	}
	for _, c := range []struct {
		name, in string
		want     error
	}{
		{"header", "time,value\n", ErrHeader},
		{"timestamp", "timestamp,value,anomaly_score\n2000-01-01 00:00:00,1,0\n", ErrTimestamp},
		{"value", "timestamp,value,anomaly_score\n" + f.Series.Raw[0] + ",1,x\n", ErrValue},
		{"short", "timestamp,value,anomaly_score\n" + f.Series.Raw[0] + ",1,0\n", ErrScores},
	} {
		if _, err := ReadResults(strings.NewReader(c.in), f); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
}
